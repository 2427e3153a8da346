/* assets.c: serves the embedded page: GET / is index.html, GET /<file> the other files of web/. */
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

#include "assets.h"
#include "server.h"

static int handle_asset(struct mg_connection *conn, void *cb) {
    const server_asset *a = cb;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (strcmp(ri->request_method, "GET") && strcmp(ri->request_method, "HEAD")) {
        send_error(conn, 405, "%s %s: use GET", ri->request_method, ri->local_uri);
        return 405;
    }
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n"
              "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'self'; "
              "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' ws: wss:\r\n"
              "Connection: close\r\n\r\n",
              a->mime, a->len);
    if (strcmp(ri->request_method, "HEAD")) mg_write(conn, a->data, a->len);
    return 200;
}

void assets_register(struct mg_context *mg, server *srv) {
    (void)srv;
    char pattern[128];
    for (int i = 0; i < server_n_assets; i++) {
        snprintf(pattern, sizeof pattern, "%s$", server_assets[i].path);
        mg_set_request_handler(mg, pattern, handle_asset, (void *)&server_assets[i]);
        if (!strcmp(server_assets[i].path, "/index.html"))
            mg_set_request_handler(mg, "/$", handle_asset, (void *)&server_assets[i]);
    }
}
