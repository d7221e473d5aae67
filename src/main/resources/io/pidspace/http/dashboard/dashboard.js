// The pidspace dashboard: polls /dashboard/data, keeps the last minutes of answers in memory and
// draws them. No library and no network beyond the node; every value goes in as text, never HTML.
(function () {
  'use strict';
  const POLL_MS = 2000;
  const KEEP_MS = 10 * 60 * 1000;   // history drawn as fill over time
  const WINDOW_MS = 60 * 1000;      // rates, percentiles and forecasts look this far back
  const FULLEST = 8;
  const SVG = 'http://www.w3.org/2000/svg';
  // Occupancy bins (% of pid_max): the legend and the heatmap take their colours from here alone.
  const BINS = [
    { from: 0, to: 25, color: '#c7e9c0' },
    { from: 25, to: 50, color: '#fee391' },
    { from: 50, to: 75, color: '#fdae6b' },
    { from: 75, to: 90, color: '#e6550d', hot: true },
    { from: 90, to: 100, color: '#a50f15', hot: true },
  ];
  const history = []; // {time, allocated, freed, counts, spaces: Map(id -> {allocated, pidMax})}
  let bounds = [];

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  function binOf(percent) {
    return BINS.find((b) => percent < b.to) || BINS[BINS.length - 1];
  }

  function percentOf(s) {
    return Math.round((s.allocated * 1000) / s.pidMax) / 10;
  }

  function drawLegend() {
    const legend = $('legend');
    BINS.forEach((b) => {
      const entry = el('span', 'entry');
      entry.dataset.from = b.from;
      entry.dataset.to = b.to;
      const swatch = el('span', 'swatch');
      swatch.style.backgroundColor = b.color;
      entry.append(swatch, b.from + '–' + b.to + ' %');
      legend.append(entry);
    });
  }

  /** The newest entry at least WINDOW_MS old, else the oldest one. */
  function base(now) {
    let found = history[0];
    for (const h of history) {
      if (now.time - h.time >= WINDOW_MS) found = h; else break;
    }
    return found;
  }

  function duration(seconds) {
    if (seconds < 60) return Math.ceil(seconds) + ' s';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
    return Math.round(seconds / 86400) + ' days';
  }

  /** When a space runs out at its net rate over the window: text, and seconds (Infinity: never). */
  function forecast(id, s, now) {
    if (s.allocated >= s.pidMax) return { text: 'full now', seconds: 0, rate: 0 };
    const then = base(now);
    const old = then && then.spaces.get(id);
    if (!old || then === now) return { text: '–', seconds: Infinity, rate: 0 };
    const rate = (s.allocated - old.allocated) / ((now.time - then.time) / 1000);
    if (!(rate > 0)) return { text: 'not at this rate', seconds: Infinity, rate: rate };
    const seconds = (s.pidMax - s.allocated) / rate;
    const at = new Date(now.time + seconds * 1000);
    return { text: 'in ' + duration(seconds) + ' (' + at.toLocaleTimeString() + ')', seconds: seconds, rate: rate };
  }

  function drawHeatmap(data, now) {
    const map = $('heatmap');
    const byId = new Map(data.spaces.map((s) => [s.id, s]));
    const cells = [];
    for (let id = 0; id < data.maxSpaces; id++) {
      const s = byId.get(id);
      if (!s) {
        const slot = el('span', 'slot');
        slot.title = 'space ' + id + ': not created';
        cells.push(slot);
      } else if (s.error) {
        const cell = el('span', 'cell error', String(id));
        cell.dataset.space = id;
        cell.dataset.error = s.error;
        cell.title = 'space ' + id + ': ' + s.error;
        cells.push(cell);
      } else {
        const percent = percentOf(s);
        const bin = binOf(percent);
        const cell = el('span', bin.hot ? 'cell hot' : 'cell');
        cell.dataset.space = id;
        cell.dataset.used = percent;
        cell.style.backgroundColor = bin.color;
        cell.append(el('div', 'id', String(id)), el('div', 'used', percent + '%'));
        cell.title = 'space ' + id + ': ' + s.allocated + ' of pid_max ' + s.pidMax + ' (' + percent +
            ' %), runs out: ' + forecast(id, s, now).text;
        cells.push(cell);
      }
    }
    map.replaceChildren(...cells);
  }

  function sparkline(points, width, height, max) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('preserveAspectRatio', 'none');
    if (points.length > 1) {
      const t0 = points[0][0];
      const span = Math.max(1, points[points.length - 1][0] - t0);
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points.map(([t, v]) =>
          ((t - t0) / span * width).toFixed(1) + ',' + (height - Math.min(v, max) / max * height).toFixed(1)).join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', '#e6550d');
      line.setAttribute('stroke-width', '1.5');
      svg.append(line);
    }
    return svg;
  }

  function row(tbody, cells) {
    const tr = el('tr');
    cells.forEach((c) => {
      const td = el('td');
      td.append(c);
      tr.append(td);
    });
    tbody.append(tr);
  }

  function drawTables(data, now) {
    const live = data.spaces.filter((s) => !s.error);
    const fullest = live.slice().sort((a, b) => percentOf(b) - percentOf(a) || a.id - b.id).slice(0, FULLEST);
    const body = $('fullest').tBodies[0];
    body.replaceChildren();
    fullest.forEach((s) => {
      const points = history.filter((h) => h.spaces.has(s.id)).map((h) => [h.time, percentOf(h.spaces.get(s.id))]);
      row(body, [String(s.id), percentOf(s) + ' %', sparkline(points, 160, 24, 100), forecast(s.id, s, now).text]);
    });
    const soonest = live.map((s) => ({ s: s, f: forecast(s.id, s, now) }))
        .filter((x) => x.f.seconds < Infinity)
        .sort((a, b) => a.f.seconds - b.f.seconds)
        .slice(0, FULLEST);
    const fbody = $('forecast').tBodies[0];
    fbody.replaceChildren();
    if (soonest.length === 0) {
      row(fbody, ['–', '', '', 'no space is filling up']);
    }
    soonest.forEach((x) => row(fbody, [String(x.s.id), percentOf(x.s) + ' %', x.f.rate.toFixed(1), x.f.text]));
  }

  /** A latency quantile from bucket counts, interpolated inside its bucket as Prometheus does. */
  function quantile(q, counts) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return '–';
    const rank = q * total;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      if (seen + counts[i] >= rank && counts[i] > 0) {
        if (i >= bounds.length) return '> ' + bounds[bounds.length - 1] + ' s';
        const lower = i === 0 ? 0 : bounds[i - 1];
        const ms = (lower + (bounds[i] - lower) * ((rank - seen) / counts[i])) * 1000;
        return ms < 10 ? ms.toFixed(2) + ' ms' : ms.toFixed(0) + ' ms';
      }
      seen += counts[i];
    }
    return '–';
  }

  function drawRates(data, now) {
    const then = base(now);
    if (then && then !== now) {
      const seconds = (now.time - then.time) / 1000;
      $('allocs-rate').textContent = Math.round((now.allocated - then.allocated) / seconds).toLocaleString();
      $('frees-rate').textContent = Math.round((now.freed - then.freed) / seconds).toLocaleString();
    }
    const counts = now.counts.map((c, i) => c - (then && then !== now ? then.counts[i] : 0));
    $('p50').textContent = quantile(0.5, counts);
    $('p90').textContent = quantile(0.9, counts);
    $('p99').textContent = quantile(0.99, counts);
    $('space-count').textContent = String(data.spaces.length);
    const chart = $('rate-chart');
    chart.replaceChildren();
    const series = (key, color) => {
      const pts = [];
      for (let i = 1; i < history.length; i++) {
        const dt = (history[i].time - history[i - 1].time) / 1000;
        pts.push([history[i].time, (history[i][key] - history[i - 1][key]) / dt]);
      }
      return { pts: pts, color: color };
    };
    const all = [series('allocated', '#3182bd'), series('freed', '#31a354')];
    const max = Math.max(1, ...all.flatMap((s) => s.pts.map((p) => p[1])));
    all.forEach((s) => {
      const line = sparkline(s.pts, 300, 60, max).firstChild;
      if (line) {
        line.setAttribute('stroke', s.color);
        chart.append(line);
      }
    });
  }

  function draw(data) {
    bounds = data.latencyBounds;
    const now = {
      time: data.time,
      allocated: data.allocated,
      freed: data.freed,
      counts: data.latencyCounts,
      spaces: new Map(data.spaces.filter((s) => !s.error).map((s) => [s.id, { allocated: s.allocated, pidMax: s.pidMax }])),
    };
    history.push(now);
    while (history.length > 1 && now.time - history[0].time > KEEP_MS) history.shift();
    drawHeatmap(data, now);
    drawTables(data, now);
    drawRates(data, now);
    const status = $('status');
    status.className = '';
    status.textContent = 'updated ' + new Date(data.time).toLocaleTimeString();
  }

  function poll() {
    fetch('/dashboard/data', { cache: 'no-store' })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error('the node answered ' + r.status))))
        .then(draw)
        .catch((e) => {
          const status = $('status');
          status.className = 'error';
          status.textContent = 'cannot read the node: ' + e.message;
        })
        .finally(() => setTimeout(poll, POLL_MS));
  }

  drawLegend();
  poll();
})();
