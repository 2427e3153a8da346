/* jpeg_enc.c: libjpeg compression to a memory buffer (jpeg_mem_dest), errors returned, never exited on. */
#include "jpeg_enc.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

typedef struct err_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} err_mgr;

static void on_error(j_common_ptr c) { longjmp(((err_mgr *)c->err)->jb, 1); }
static void on_message(j_common_ptr c) { (void)c; }

int jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, unsigned char **out, size_t *out_len) {
    struct jpeg_compress_struct ci;
    err_mgr em;
    unsigned char *volatile buf = NULL;
    unsigned long len = 0;
    *out = NULL, *out_len = 0;
    ci.err = jpeg_std_error(&em.pub);
    em.pub.error_exit = on_error;
    em.pub.output_message = on_message;
    if (setjmp(em.jb)) {
        jpeg_destroy_compress(&ci);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&ci);
    unsigned char *b = NULL;
    jpeg_mem_dest(&ci, &b, &len);
    ci.image_width = (JDIMENSION)width;
    ci.image_height = (JDIMENSION)height;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)ci.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    buf = b;
    jpeg_destroy_compress(&ci);
    *out = buf;
    *out_len = len;
    return 0;
}
