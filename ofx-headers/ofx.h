/* ofx.h - every OpenFX declaration collapse-ofx uses, for bindgen and C shims.
   These are our own headers, written to the OpenFX 1.4 API plus the 1.5 GPU render
   extension; tests/ofx_abi.rs checks them against the official headers. */
#ifndef COLLAPSE_OFX_H
#define COLLAPSE_OFX_H

#if !defined(__cplusplus)
#include <stdbool.h>
#endif
#include <stddef.h>

#include "ofxCore.h"
#include "ofxProperty.h"
#include "ofxMemory.h"
#include "ofxMultiThread.h"
#include "ofxMessage.h"
#include "ofxProgress.h"
#include "ofxTimeLine.h"
#include "ofxParam.h"
#include "ofxParametricParam.h"
#include "ofxInteract.h"
#include "ofxKeySyms.h"
#include "ofxPixels.h"
#include "ofxDrawSuite.h"
#include "ofxDialog.h"
#include "ofxImageEffect.h"
#include "ofxOpenGLRender.h"
#include "ofxGPURender.h"
#include "ofxOld.h"

#endif
