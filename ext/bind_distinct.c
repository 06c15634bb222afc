/* hotloop._core: the distinct kernel's functions (see core/include/hotloop/distinct.h). */
#include "binding.h"

int hl_exec_distinct(PyObject *module) {
    (void)module;
    return 0;
}
