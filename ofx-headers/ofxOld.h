/* ofxOld.h - collapse-ofx's own declarations of deprecated OpenFX names that
   hosts and plug-ins still meet (YUVA components, normalised double types). */
#ifndef COLLAPSE_OFX_OLD_H
#define COLLAPSE_OFX_OLD_H

#define kOfxImageComponentYUVA "OfxImageComponentYUVA"
#define kOfxImageEffectPropInAnalysis "OfxImageEffectPropInAnalysis"

typedef struct OfxYUVAColourB { unsigned char y, u, v, a; } OfxYUVAColourB;
typedef struct OfxYUVAColourS { unsigned short y, u, v, a; } OfxYUVAColourS;
typedef struct OfxYUVAColourF { float y, u, v, a; } OfxYUVAColourF;

/* The value differs from the name (no "Size"). */
#define kOfxInteractPropViewportSize "OfxInteractPropViewport"

#define kOfxParamDoubleTypeNormalisedX "OfxParamDoubleTypeNormalisedX"
#define kOfxParamDoubleTypeNormalisedY "OfxParamDoubleTypeNormalisedY"
#define kOfxParamDoubleTypeNormalisedXAbsolute "OfxParamDoubleTypeNormalisedXAbsolute"
#define kOfxParamDoubleTypeNormalisedYAbsolute "OfxParamDoubleTypeNormalisedYAbsolute"
#define kOfxParamDoubleTypeNormalisedXY "OfxParamDoubleTypeNormalisedXY"
#define kOfxParamDoubleTypeNormalisedXYAbsolute "OfxParamDoubleTypeNormalisedXYAbsolute"

#endif
