// The header must compile as C++ (extern "C", no C-only constructs) with every warning on.
#include "httpclient.h"

#include <cstring>

static_assert(HC_OK == 0, "HC_OK is 0");
static_assert(sizeof(hc_error) == sizeof(int), "hc_error is int-sized");
static_assert(HC_STATUS_NOT_FOUND == 404, "status constants are usable in constant expressions");
static_assert(HTTPCLIENT_VERSION_NUMBER ==
                  ((HTTPCLIENT_VERSION_MAJOR << 16) | (HTTPCLIENT_VERSION_MINOR << 8) |
                   HTTPCLIENT_VERSION_PATCH),
              "version number matches its parts");

// Taking the address of each function checks the declarations have C linkage and are usable.
extern "C++" int header_cxx_uses_the_functions();
int header_cxx_uses_the_functions() {
  const char *(*name)(int) = hc_error_name;
  bool (*is)(int, int) = hc_error_is;
  return name != nullptr && is != nullptr && std::strlen(hc_version()) > 0;
}
