/* hotloop._core: the tmodel kernel's functions (see core/include/hotloop/tmodel.h). */
#include "binding.h"

int hl_exec_tmodel(PyObject *module) {
    (void)module;
    return 0;
}
