package io.pidspace.http;

/** The API's routes, each with its latency histogram: the label values are these templates, never a request's path. */
enum Endpoint {
  LIST("GET", "/v1/spaces"),
  CREATE("POST", "/v1/spaces"),
  STATS("GET", "/v1/spaces/{id}"),
  DESTROY("DELETE", "/v1/spaces/{id}"),
  ALLOC("POST", "/v1/spaces/{id}/pids"),
  LOOKUP("GET", "/v1/pids/{pid}"),
  FREE("DELETE", "/v1/pids/{pid}"),
  FREE_BATCH("POST", "/v1/pids:free"),
  SET("PATCH", "/v1/spaces/{id}"),
  RECONCILE("POST", "/v1/spaces/{id}:reconcile"),
  HOLD("POST", "/v1/spaces/{id}/holds"),
  RELEASE("DELETE", "/v1/spaces/{id}/holds/{hold}"),
  EXPORT("GET", "/v1/spaces/{id}/export"),
  IMPORT("POST", ApiServer.IMPORT_PATH);

  final String method;
  final String template;

  Endpoint(String method, String template) {
    this.method = method;
    this.template = template;
  }
}
