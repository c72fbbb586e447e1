/* ofxOpenGLRender.h - collapse-ofx's own declarations of the OpenFX OpenGL render suite. */
#ifndef COLLAPSE_OFX_OPENGL_RENDER_H
#define COLLAPSE_OFX_OPENGL_RENDER_H

#include "ofxImageEffect.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The suite's name differs from the macro's. */
#define kOfxOpenGLRenderSuite "OfxImageEffectOpenGLRenderSuite"

#ifndef kOfxBitDepthHalf
#define kOfxBitDepthHalf "OfxBitDepthHalf"
#endif

#define kOfxImageEffectPropOpenGLRenderSupported "OfxImageEffectPropOpenGLRenderSupported"
#define kOfxOpenGLPropPixelDepth "OfxOpenGLPropPixelDepth"
#define kOfxImageEffectPropOpenGLEnabled "OfxImageEffectPropOpenGLEnabled"
#define kOfxImageEffectPropOpenGLTextureIndex "OfxImageEffectPropOpenGLTextureIndex"
#define kOfxImageEffectPropOpenGLTextureTarget "OfxImageEffectPropOpenGLTextureTarget"

/* GL render errors: on kOfxStatGLRenderFailed the host retries without GL. */
#define kOfxStatGLOutOfMemory 1001
#define kOfxStatGLRenderFailed 1002

typedef struct OfxImageEffectOpenGLRenderSuiteV1 {
  OfxStatus (*clipLoadTexture)(OfxImageClipHandle clip, OfxTime time, const char *format, const OfxRectD *region,
                               OfxPropertySetHandle *textureHandle);
  OfxStatus (*clipFreeTexture)(OfxPropertySetHandle textureHandle);
  OfxStatus (*flushResources)(void);
} OfxImageEffectOpenGLRenderSuiteV1;

/* The detach action's value keeps the standard's leading 'k'. */
#define kOfxActionOpenGLContextAttached "OfxActionOpenGLContextAttached"
#define kOfxActionOpenGLContextDetached "kOfxActionOpenGLContextDetached"

#ifdef __cplusplus
}
#endif
#endif
