/* ofxDrawSuite.h - collapse-ofx's own declarations of the OpenFX draw suite
   (API-neutral overlay drawing, an alternative to OpenGL in interacts). */
#ifndef COLLAPSE_OFX_DRAW_SUITE_H
#define COLLAPSE_OFX_DRAW_SUITE_H

#include "ofxCore.h"
#include "ofxPixels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kOfxDrawSuite "OfxDrawSuite"

typedef struct OfxDrawContext *OfxDrawContextHandle;

/* Set on the interact's draw action arguments. */
#define kOfxInteractPropDrawContext "OfxInteractPropDrawContext"

/* Host-chosen colours for overlay elements. */
typedef enum OfxStandardColour {
  kOfxStandardColourOverlayBackground,
  kOfxStandardColourOverlayActive,
  kOfxStandardColourOverlaySelected,
  kOfxStandardColourOverlayDeselected,
  kOfxStandardColourOverlayMarqueeFG,
  kOfxStandardColourOverlayMarqueeBG,
  kOfxStandardColourOverlayText
} OfxStandardColour;

typedef enum OfxDrawLineStipplePattern {
  kOfxDrawLineStipplePatternSolid,
  kOfxDrawLineStipplePatternDot,
  kOfxDrawLineStipplePatternDash,
  kOfxDrawLineStipplePatternAltDash,
  kOfxDrawLineStipplePatternDotDash
} OfxDrawLineStipplePattern;

/* Point counts follow the matching OpenGL primitives; an ellipse takes its bounding box's two corners. */
typedef enum OfxDrawPrimitive {
  kOfxDrawPrimitiveLines,
  kOfxDrawPrimitiveLineStrip,
  kOfxDrawPrimitiveLineLoop,
  kOfxDrawPrimitiveRectangle,
  kOfxDrawPrimitivePolygon,
  kOfxDrawPrimitiveEllipse
} OfxDrawPrimitive;

/* Bit flags. */
typedef enum OfxDrawTextAlignment {
  kOfxDrawTextAlignmentLeft = 0x1,
  kOfxDrawTextAlignmentRight = 0x2,
  kOfxDrawTextAlignmentTop = 0x4,
  kOfxDrawTextAlignmentBottom = 0x8,
  kOfxDrawTextAlignmentBaseline = 0x10,
  kOfxDrawTextAlignmentCenterH = (kOfxDrawTextAlignmentLeft | kOfxDrawTextAlignmentRight),
  kOfxDrawTextAlignmentCenterV = (kOfxDrawTextAlignmentTop | kOfxDrawTextAlignmentBaseline)
} OfxDrawTextAlignment;

typedef struct OfxDrawSuiteV1 {
  OfxStatus (*getColour)(OfxDrawContextHandle context, OfxStandardColour std_colour, OfxRGBAColourF *colour);
  OfxStatus (*setColour)(OfxDrawContextHandle context, const OfxRGBAColourF *colour);
  OfxStatus (*setLineWidth)(OfxDrawContextHandle context, float width);
  OfxStatus (*setLineStipple)(OfxDrawContextHandle context, OfxDrawLineStipplePattern pattern);
  OfxStatus (*draw)(OfxDrawContextHandle context, OfxDrawPrimitive primitive, const OfxPointD *points,
                    int point_count);
  OfxStatus (*drawText)(OfxDrawContextHandle context, const char *text, const OfxPointD *pos, int alignment);
} OfxDrawSuiteV1;

#ifdef __cplusplus
}
#endif
#endif
