/* ofxParametricParam.h - collapse-ofx's own declarations of the OpenFX parametric
   (curve) parameter suite. */
#ifndef COLLAPSE_OFX_PARAMETRIC_PARAM_H
#define COLLAPSE_OFX_PARAMETRIC_PARAM_H

#if !defined(__cplusplus)
#include <stdbool.h>
#endif
#include "ofxParam.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxParametricParameterSuite "OfxParametricParameterSuite"
#define kOfxParamTypeParametric "OfxParamTypeParametric"
#define kOfxParamPropParametricDimension "OfxParamPropParametricDimension"
#define kOfxParamPropParametricUIColour "OfxParamPropParametricUIColour"
#define kOfxParamPropParametricInteractBackground "OfxParamPropParametricInteractBackground"
#define kOfxParamHostPropSupportsParametricAnimation "OfxParamHostPropSupportsParametricAnimation"
#define kOfxParamPropParametricRange "OfxParamPropParametricRange"

/* curveIndex picks the dimension; key/value are a control point's position and value. */
typedef struct OfxParametricParameterSuiteV1 {
  OfxStatus (*parametricParamGetValue)(OfxParamHandle param, int curveIndex, OfxTime time,
                                       double parametricPosition, double *returnValue);
  OfxStatus (*parametricParamGetNControlPoints)(OfxParamHandle param, int curveIndex, double time,
                                                int *returnValue);
  OfxStatus (*parametricParamGetNthControlPoint)(OfxParamHandle param, int curveIndex, double time, int nthCtl,
                                                 double *key, double *value);
  OfxStatus (*parametricParamSetNthControlPoint)(OfxParamHandle param, int curveIndex, double time, int nthCtl,
                                                 double key, double value, bool addAnimationKey);
  OfxStatus (*parametricParamAddControlPoint)(OfxParamHandle param, int curveIndex, double time, double key,
                                              double value, bool addAnimationKey);
  OfxStatus (*parametricParamDeleteControlPoint)(OfxParamHandle param, int curveIndex, int nthCtl);
  OfxStatus (*parametricParamDeleteAllControlPoints)(OfxParamHandle param, int curveIndex);
} OfxParametricParameterSuiteV1;

#ifdef __cplusplus
}
#endif
#endif
