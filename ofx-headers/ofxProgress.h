/* ofxProgress.h - collapse-ofx's own declarations of the OpenFX progress suites (V1, V2). */
#ifndef COLLAPSE_OFX_PROGRESS_H
#define COLLAPSE_OFX_PROGRESS_H

#include "ofxCore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxProgressSuite "OfxProgressSuite"

/* progress runs 0..1; progressUpdate answers kOfxStatReplyNo when the user aborts. */
typedef struct OfxProgressSuiteV1 {
  OfxStatus (*progressStart)(void *effectInstance, const char *label);
  OfxStatus (*progressUpdate)(void *effectInstance, double progress);
  OfxStatus (*progressEnd)(void *effectInstance);
} OfxProgressSuiteV1;

/* V2: the start call also takes a message id. */
typedef struct OfxProgressSuiteV2 {
  OfxStatus (*progressStart)(void *effectInstance, const char *message, const char *messageid);
  OfxStatus (*progressUpdate)(void *effectInstance, double progress);
  OfxStatus (*progressEnd)(void *effectInstance);
} OfxProgressSuiteV2;

#ifdef __cplusplus
}
#endif
#endif
