// Serves the web page: the embedded assets under /assets/, and index.html for / and for every
// page path of the client-side router (/dags/DAG, /runs/RUN, /runs/RUN/TASK/TRY, /backfills,
// /workers, /alerts), so links can be shared. Every answer carries a Content-Security-Policy that
// allows scripts, styles and connections from this origin only (no inline script, nothing from
// elsewhere).
#pragma once
#include "server/http/http_server.h"
namespace de::http {
void RegisterWebRoutes(HttpServer* server);
}  // namespace de::http
