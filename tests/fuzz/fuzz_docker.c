/*
 * Fuzz target: the Docker json-file decoder and the joiner.  See
 * fuzz_container.h for what is checked.
 */
#include "fuzz_container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_ctr_run(LSH_CTR_DOCKER, data, size);
}
