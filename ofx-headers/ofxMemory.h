/* ofxMemory.h - collapse-ofx's own declarations of the OpenFX memory suite. */
#ifndef COLLAPSE_OFX_MEMORY_H
#define COLLAPSE_OFX_MEMORY_H

#include "ofxCore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxMemorySuite "OfxMemorySuite"

/* Host-managed memory; handle is an effect instance or NULL. */
typedef struct OfxMemorySuiteV1 {
  OfxStatus (*memoryAlloc)(void *handle, size_t nBytes, void **allocatedData);
  OfxStatus (*memoryFree)(void *allocatedData);
} OfxMemorySuiteV1;

#ifdef __cplusplus
}
#endif
#endif
