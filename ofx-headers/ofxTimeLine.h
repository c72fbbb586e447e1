/* ofxTimeLine.h - collapse-ofx's own declarations of the OpenFX time line suite. */
#ifndef COLLAPSE_OFX_TIMELINE_H
#define COLLAPSE_OFX_TIMELINE_H

#include "ofxCore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxTimeLineSuite "OfxTimeLineSuite"

/* instance is the effect instance handle. */
typedef struct OfxTimeLineSuiteV1 {
  OfxStatus (*getTime)(void *instance, double *time);
  OfxStatus (*gotoTime)(void *instance, double time);
  OfxStatus (*getTimeBounds)(void *instance, double *firstTime, double *lastTime);
} OfxTimeLineSuiteV1;

#ifdef __cplusplus
}
#endif
#endif
