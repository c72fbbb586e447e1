/* ofxDialog.h - collapse-ofx's own declarations of the OpenFX dialog suite
   (asks the host to call back on its UI thread). */
#ifndef COLLAPSE_OFX_DIALOG_H
#define COLLAPSE_OFX_DIALOG_H

#include "ofxCore.h"
#include "ofxProperty.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxDialogSuite "OfxDialogSuite"
#define kOfxActionDialog "OfxActionDialog"

typedef struct OfxDialogSuiteV1 {
  OfxStatus (*RequestDialog)(void *user_data);
  OfxStatus (*NotifyRedrawPending)(void);
} OfxDialogSuiteV1;

#ifdef __cplusplus
}
#endif
#endif
