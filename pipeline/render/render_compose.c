/* render_compose.c: the side-by-side output's rows (upstream's avconcat.mp4 panels): identity,
 * generated frame(s), the pose source frame that drove it, the ground-truth mouth frame. */
#include "render_compose.h"

#include <string.h>
#include <unistd.h>

#include "pcavs_video.h"
#include "status.h"

#define IMG PCAVS_IMG
#define RGB_BYTES ((size_t)IMG * IMG * 3) /* one 224x224 RGB frame */

/* Copies a 224x224 panel into column `col` of a row image of `panels` panels. */
static void put_panel(uint8_t *row, int panels, int col, const uint8_t *rgb) {
    for (int y = 0; y < IMG; y++)
        memcpy(row + ((size_t)y * IMG * panels + (size_t)col * IMG) * 3, rgb + (size_t)y * IMG * 3, (size_t)IMG * 3);
}

pcavs_status render_compose_row(uint8_t *row, int panels, const uint8_t *id_rgb, const uint8_t *gen,
                                const uint8_t *gen_ref, pose_src *pose, size_t pose_k, const char *mouth_dir, size_t k,
                                uint8_t *work) {
    int col = 0;
    put_panel(row, panels, col++, id_rgb);
    put_panel(row, panels, col++, gen);
    if (gen_ref) put_panel(row, panels, col++, gen_ref);
    if (pose) {
        PCAVS_TRY(render_pose_rgb(pose, pose_k, work));
        put_panel(row, panels, col++, work);
    }
    if (mouth_dir) {
        char path[4200];
        pcavs_frames_path(mouth_dir, k, path, sizeof path);
        if (access(path, R_OK) == 0)
            PCAVS_TRY(render_load_crop(path, "mouth frame", work));
        else
            memset(work, 127, RGB_BYTES); /* past the ground truth's end: upstream's zero tensor */
        put_panel(row, panels, col++, work);
    }
    return PCAVS_OK;
}
