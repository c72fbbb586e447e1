/* ofxGPURender.h - collapse-ofx's declarations of the OpenFX 1.5 GPU render extension.
   The OpenGL suite lives in ofxOpenGLRender.h and the CUDA/Metal/OpenCL properties
   that OFX 1.4-era headers already carried live in ofxImageEffect.h; this file adds
   the names OFX 1.5 introduced on top of them. */
#ifndef COLLAPSE_OFX_GPU_RENDER_H
#define COLLAPSE_OFX_GPU_RENDER_H

#include "ofxImageEffect.h"
#include "ofxOpenGLRender.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether a host or plug-in can render on the CPU at all ("true"/"false", OFX 1.5.1). */
#define kOfxImageEffectPropCPURenderSupported "OfxImageEffectPropCPURenderSupported"

/* API-neutral names for the GL error codes. */
#define kOfxStatGPUOutOfMemory 1001
#define kOfxStatGPURenderFailed 1002

/* OpenCL images (as opposed to the buffers of kOfxImageEffectPropOpenCLRenderSupported). */
#define kOfxImageEffectPropOpenCLSupported "OfxImageEffectPropOpenCLSupported"
#define kOfxImageEffectPropOpenCLImage "OfxImageEffectPropOpenCLImage"

#define kOfxOpenCLProgramSuite "OfxOpenCLProgramSuite"

/* Lets the host build (and cache) OpenCL programs; pResult is a cl_program*. */
typedef struct OfxOpenCLProgramSuiteV1 {
  OfxStatus (*compileProgram)(const char *pszProgramSource, int fOptional, void *pResult);
} OfxOpenCLProgramSuiteV1;

#ifdef __cplusplus
}
#endif
#endif
