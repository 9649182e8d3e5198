// The declaration in include/FuzzerDriver.h is the whole module; SwiftPM needs one source file to build it.
#include "FuzzerDriver.h"
