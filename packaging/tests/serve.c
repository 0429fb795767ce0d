/*
 * A stand-in model server for the container image test (.ci/suites/packaging.sh).
 *
 * Run behind `modelseal gate ... -- /serve FILE...`: reads each FILE from
 * $MODELSEAL_MODEL_DIR (the gate's verified, sealed copy of the model) the way a
 * loader would, and prints its size and FNV-1a 64 hash (the test compares them
 * with the fixture), and whether the file could be opened for writing (it must
 * not). Built with `gcc -static` so it runs in the FROM scratch image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *dir = getenv("MODELSEAL_MODEL_DIR");
    if (dir == NULL) {
        fprintf(stderr, "serve: MODELSEAL_MODEL_DIR is not set\n");
        return 3;
    }
    for (int i = 1; i < argc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, argv[i]);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            perror(path);
            return 4;
        }
        static unsigned char buf[1 << 16];
        uint64_t hash = 0xcbf29ce484222325ULL, n = 0;
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
            for (size_t j = 0; j < got; j++) {
                hash ^= buf[j];
                hash *= 0x100000001b3ULL;
            }
            n += got;
        }
        fclose(f);
        FILE *w = fopen(path, "r+b");
        printf("serve: %s %llu bytes fnv1a64=%016llx %s\n", argv[i], (unsigned long long)n,
               (unsigned long long)hash, w == NULL ? "read-only" : "WRITABLE");
        if (w != NULL) fclose(w);
    }
    return 0;
}
