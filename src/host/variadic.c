/* host variadic shims: see src/host/mod.rs */
