/* hotloop._core: the poisson kernel's functions (see core/include/hotloop/poisson.h). */
#include "binding.h"

int hl_exec_poisson(PyObject *module) {
    (void)module;
    return 0;
}
