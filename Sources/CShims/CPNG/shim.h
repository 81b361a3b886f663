// libpng: PNG snapshots of the headless screen. Uses the simplified API (png_image_*), no setjmp.
#include <png.h>
