// Linked into the better-sqlite3 binding (see glibc-compat.h): definitions for symbols
// that a current toolchain references with versions older Linux hosts lack. All hidden:
// the binding uses them internally and exports nothing new.
#include <new>

extern "C" {
struct stat64;
// glibc < 2.33 has no stat64/fstat64/lstat64 symbols: <sys/stat.h> turned them into
// calls of __xstat64 and friends with a version argument (1 on x86_64), which every
// glibc up to now still exports under GLIBC_2.2.5.
int __xstat64(int ver, const char *path, struct stat64 *buf);
int __fxstat64(int ver, int fd, struct stat64 *buf);
int __lxstat64(int ver, const char *path, struct stat64 *buf);
__asm__(".symver __xstat64,__xstat64@GLIBC_2.2.5");
__asm__(".symver __fxstat64,__fxstat64@GLIBC_2.2.5");
__asm__(".symver __lxstat64,__lxstat64@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) int stat64(const char *path, struct stat64 *buf) { return __xstat64(1, path, buf); }
__attribute__((visibility("hidden"))) int fstat64(int fd, struct stat64 *buf) { return __fxstat64(1, fd, buf); }
__attribute__((visibility("hidden"))) int lstat64(const char *path, struct stat64 *buf) { return __lxstat64(1, path, buf); }
}

// g++ >= 11 emits calls to this (GLIBCXX_3.4.29) for `new T[n]`; libstdc++ before gcc 11
// (RHEL 8: 3.4.25, Ubuntu 20.04: 3.4.28) does not have it.
namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length();
void __throw_bad_array_new_length() { throw std::bad_array_new_length(); }
}
