package io.pidspace.api;

import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;

/** One space of {@link PidAuthority#spaces}: its stats, or the refusal that says why there are none. */
public record SpaceListing(int id, SpaceStats stats, PidspaceException error) {}
