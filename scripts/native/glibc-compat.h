/*
 * Force-included (gcc -include) into every translation unit of the better-sqlite3 build.
 *
 * The binding is compiled on a current Debian, whose glibc gives these functions new
 * symbol versions (dl* and pthread_* moved into libc in 2.34, libm got new exp/log/pow
 * in 2.29). A binding that asks for those versions fails to load ("GLIBC_2.34 not
 * found") on the older Linux hosts VS Code's Remote-SSH still supports (glibc >= 2.28:
 * RHEL/Rocky 8, Ubuntu 20.04, Debian 11). Binding each reference to the oldest version,
 * which every glibc since 2.2.5 still exports, keeps the binding's requirement at 2.28,
 * the same as the official Node.js binaries. stat64/fstat64/lstat64 (2.33) have no older
 * version at all: glibc-compat.cpp supplies them.
 */
#ifndef OSM_GLIBC_COMPAT_H
#define OSM_GLIBC_COMPAT_H
#if defined(__linux__) && defined(__x86_64__)
#define OSM_OLD_SYMBOL(name) __asm__(".symver " #name "," #name "@GLIBC_2.2.5");
OSM_OLD_SYMBOL(dlopen)
OSM_OLD_SYMBOL(dlsym)
OSM_OLD_SYMBOL(dlclose)
OSM_OLD_SYMBOL(dlerror)
OSM_OLD_SYMBOL(dladdr)
OSM_OLD_SYMBOL(pthread_create)
OSM_OLD_SYMBOL(pthread_join)
OSM_OLD_SYMBOL(pthread_detach)
OSM_OLD_SYMBOL(pthread_once)
OSM_OLD_SYMBOL(pthread_key_create)
OSM_OLD_SYMBOL(pthread_key_delete)
OSM_OLD_SYMBOL(pthread_getspecific)
OSM_OLD_SYMBOL(pthread_setspecific)
OSM_OLD_SYMBOL(pthread_mutex_trylock)
OSM_OLD_SYMBOL(pthread_mutexattr_init)
OSM_OLD_SYMBOL(pthread_mutexattr_destroy)
OSM_OLD_SYMBOL(pthread_mutexattr_settype)
OSM_OLD_SYMBOL(pthread_attr_setstacksize)
OSM_OLD_SYMBOL(exp)
OSM_OLD_SYMBOL(log)
OSM_OLD_SYMBOL(log2)
OSM_OLD_SYMBOL(pow)
#undef OSM_OLD_SYMBOL
#endif
#endif
