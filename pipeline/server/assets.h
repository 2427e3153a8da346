/* assets.h: the web page's files, compiled into the binary (assets_data.c is generated from web/ by
 * embed_assets.cmake at build time). */
#ifndef PCAVS_SERVER_ASSETS_H
#define PCAVS_SERVER_ASSETS_H

#include <stddef.h>

typedef struct server_asset {
    const char *path; /* "/index.html" */
    const char *mime;
    const unsigned char *data; /* [len] */
    size_t len;
} server_asset;

extern const server_asset server_assets[];
extern const int server_n_assets;

#endif
