// collapse_host: a small OpenFX host built on the official HostSupport library
// (openfx/HostSupport in the openfx-sys crate), used by tests/official_hostsupport.rs to
// prove that the Collapse bundle loads, describes and renders in the reference
// host implementation.
//
// It is modelled on HostSupport's examples/hostDemo*.cpp (a host descriptor, an
// effect instance, clip instances and parameter instances derived from the
// HostSupport classes) but is our own code:
//   - clips serve a synthetic 320x240 float RGBA plate (a sky gradient, ground,
//     and a bright "building" rectangle) from a full-frame buffer, handing out
//     images whose bounds are the requested region clipped to the clip's RoD;
//   - parameter instances hold values (initialised from the descriptor's
//     defaults, with normalised Double2D defaults converted to canonical
//     coordinates as OFX 1.2+ requires of the host: HostSupport leaves that to us);
//   - the render path is the one a host runs: getRegionOfDefinition,
//     getRegionsOfInterest, isIdentity (honoured: an identity tile is a copy of
//     the named clip) and render, full frame and in four tiles.
//
// Usage: OFX_PLUGIN_PATH=<folder holding Collapse.ofx.bundle> collapse_host [--out DIR]
// Prints a trace, then "SUMMARY key=value" lines and "FAIL: ..." for every failed
// check; the exit status is 0 only when every check passed.
//
// HostSupport limits this program works around (documented here because the
// test relies on them):
//   - HostSupport's Double2D parameters never convert normalised defaults
//     (kOfxParamPropDefaultCoordinateSystem); the parameter instances here do.
//   - HostSupport's example host (hostDemo) has no String parameter instance and
//     answers kOfxStatErrMissingHostFeature for most gets; every type the plugin
//     declares gets a value-holding instance here, and an unknown type is a FAIL
//     (HostSupport's populate() would silently drop it).
//   - ClipInstance::getIntPropertyN throws for count 1 (a HostSupport bug), so a
//     plugin reading kOfxImageClipPropConnected with propGetIntN would fail; the
//     Collapse plugin reads it with propGetInt.
//   - The message suite casts every handle to an effect instance: a plugin posting
//     a message with a descriptor handle (describe actions) would crash it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ofxCore.h"
#include "ofxImageEffect.h"
#include "ofxPixels.h"

#include "ofxhBinary.h"
#include "ofxhPropertySuite.h"
#include "ofxhClip.h"
#include "ofxhParam.h"
#include "ofxhMemory.h"
#include "ofxhImageEffect.h"
#include "ofxhPluginAPICache.h"
#include "ofxhPluginCache.h"
#include "ofxhHost.h"
#include "ofxhImageEffectAPI.h"
#include "ofxhUtilities.h"

namespace OHI = OFX::Host::ImageEffect;
namespace OHP = OFX::Host::Param;

namespace collapse_host {

// ---------------------------------------------------------------------------
// The scene

const char *kPluginId = "org.collapseofx.Collapse";
const int W = 320, H = 240;                       // the plate, pixels = canonical (PAR 1, scale 1)
const int BX1 = 140, BY1 = 40, BX2 = 180, BY2 = 140; // the bright building
const double RX = 136, RY = 36, RW = 48, RH = 108;   // the region parameters: the building + 4 px
const double kStartFrame = 1, kDuration = 24;
const float kSentinel = -777.0f;                  // output pixels the plugin never wrote

// ---------------------------------------------------------------------------
// Report

struct Report {
  std::vector<std::string> failures;
  std::vector<std::string> messages;   // every message the plugin posted, "type: text"
  int errorMessages = 0;
  std::vector<std::pair<std::string, std::string> > summary;
  std::vector<std::string> suites;                 // suites the plugin fetched
  std::map<std::string, int> propertyFailures;     // "call(property) on type -> status" -> count
};
Report gReport;

std::string vformat(const char *fmt, va_list ap) {
  char buf[4096];
  vsnprintf(buf, sizeof buf, fmt, ap);
  return buf;
}

std::string format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  printf("FAIL: %s\n", s.c_str());
  fflush(stdout);
  gReport.failures.push_back(s);
}

void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  printf("[host] %s\n", s.c_str());
  fflush(stdout);
}

void summary(const std::string &key, const std::string &value) {
  gReport.summary.push_back(std::make_pair(key, value));
}
void summary(const std::string &key, double value) { summary(key, format("%.9g", value)); }

const char *stat(OfxStatus s) { return OFX::StatStr(s); }

std::string recordMessage(const char *scope, const char *type, const char *id, const char *fmt, va_list args) {
  std::string text = vformat(fmt, args);
  std::string t = type ? type : "(null)";
  gReport.messages.push_back(t + ": " + text);
  if (t == kOfxMessageError || t == kOfxMessageFatal) gReport.errorMessages++;
  printf("[host] %s message from plugin (%s, id %s): %s\n", scope, t.c_str(), id ? id : "(null)", text.c_str());
  fflush(stdout);
  return t;
}

// ---------------------------------------------------------------------------
// Pixels

struct Frame {
  std::vector<float> px;   // W*H RGBA, row 0 = bottom row (OFX pixel coordinates)
  Frame() : px(size_t(W) * H * 4, 0.0f) {}
  float *at(int x, int y) { return &px[(size_t(y) * W + x) * 4]; }
  const float *at(int x, int y) const { return &px[(size_t(y) * W + x) * 4]; }
};

void plateColour(int x, int y, float *p) {
  float fx = float(x) / W, fy = float(y) / H;
  if (x >= BX1 && x < BX2 && y >= BY1 && y < BY2) {
    bool window = ((x - BX1) % 10) >= 3 && ((x - BX1) % 10) < 7 && ((y - BY1) % 12) >= 4 && ((y - BY1) % 12) < 9;
    p[0] = window ? 0.55f : 0.95f;
    p[1] = window ? 0.58f : 0.92f;
    p[2] = window ? 0.62f : 0.86f;
  } else if (y < BY1) {
    p[0] = 0.26f + 0.08f * fx;
    p[1] = 0.22f + 0.05f * fx;
    p[2] = 0.17f + 0.03f * fy;
  } else {
    p[0] = 0.30f + 0.20f * fy + 0.05f * fx;
    p[1] = 0.42f + 0.22f * fy;
    p[2] = 0.62f + 0.30f * fy - 0.04f * fx;
  }
  p[3] = 1.0f;
}

Frame makePlate() {
  Frame f;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) plateColour(x, y, f.at(x, y));
  return f;
}

void writePPM(const std::string &path, const Frame &f) {
  std::ofstream os(path.c_str(), std::ios::binary);
  os << "P6\n" << W << " " << H << "\n255\n";
  for (int y = H - 1; y >= 0; --y)
    for (int x = 0; x < W; ++x) {
      const float *p = f.at(x, y);
      for (int c = 0; c < 3; ++c) {
        float v = p[c];
        if (!std::isfinite(v)) v = 0;
        v = std::min(1.0f, std::max(0.0f, v));
        os.put(char(std::lround(255.0f * std::pow(v, 1.0f / 2.2f))));
      }
    }
}

// ---------------------------------------------------------------------------
// A property suite that forwards to HostSupport's and records every call that
// does not return kOfxStatOK (a property HostSupport does not know, a bad index,
// a read-only property ...). Not failures by themselves: the plugin treats some
// properties as optional. They are listed at the end as "PROPERTY" lines.

const OfxPropertySuiteV1 *gRealProps = 0;

void propertyFailure(const char *fn, OfxPropertySetHandle h, const char *property, OfxStatus s) {
  char *type = 0, *name = 0;
  std::string on = "?";
  if (h && gRealProps->propGetString(h, kOfxPropType, 0, &type) == kOfxStatOK && type) {
    on = type;
    if (gRealProps->propGetString(h, kOfxPropName, 0, &name) == kOfxStatOK && name && *name) on += std::string(" '") + name + "'";
  }
  gReport.propertyFailures[format("%s(%s) on %s -> %s", fn, property ? property : "(null)", on.c_str(), stat(s))]++;
}

#define CH_TRACE(fn, params, args)                                  \
  OfxStatus trace_##fn params {                                     \
    OfxStatus s = gRealProps->fn args;                              \
    if (s != kOfxStatOK) propertyFailure(#fn, h, property, s);      \
    return s;                                                       \
  }
CH_TRACE(propSetPointer, (OfxPropertySetHandle h, const char *property, int i, void *v), (h, property, i, v))
CH_TRACE(propSetString, (OfxPropertySetHandle h, const char *property, int i, const char *v), (h, property, i, v))
CH_TRACE(propSetDouble, (OfxPropertySetHandle h, const char *property, int i, double v), (h, property, i, v))
CH_TRACE(propSetInt, (OfxPropertySetHandle h, const char *property, int i, int v), (h, property, i, v))
CH_TRACE(propSetPointerN, (OfxPropertySetHandle h, const char *property, int n, void *const *v), (h, property, n, v))
CH_TRACE(propSetStringN, (OfxPropertySetHandle h, const char *property, int n, const char *const *v), (h, property, n, v))
CH_TRACE(propSetDoubleN, (OfxPropertySetHandle h, const char *property, int n, const double *v), (h, property, n, v))
CH_TRACE(propSetIntN, (OfxPropertySetHandle h, const char *property, int n, const int *v), (h, property, n, v))
CH_TRACE(propGetPointer, (OfxPropertySetHandle h, const char *property, int i, void **v), (h, property, i, v))
CH_TRACE(propGetString, (OfxPropertySetHandle h, const char *property, int i, char **v), (h, property, i, v))
CH_TRACE(propGetDouble, (OfxPropertySetHandle h, const char *property, int i, double *v), (h, property, i, v))
CH_TRACE(propGetInt, (OfxPropertySetHandle h, const char *property, int i, int *v), (h, property, i, v))
CH_TRACE(propGetPointerN, (OfxPropertySetHandle h, const char *property, int n, void **v), (h, property, n, v))
CH_TRACE(propGetStringN, (OfxPropertySetHandle h, const char *property, int n, char **v), (h, property, n, v))
CH_TRACE(propGetDoubleN, (OfxPropertySetHandle h, const char *property, int n, double *v), (h, property, n, v))
CH_TRACE(propGetIntN, (OfxPropertySetHandle h, const char *property, int n, int *v), (h, property, n, v))
CH_TRACE(propReset, (OfxPropertySetHandle h, const char *property), (h, property))
CH_TRACE(propGetDimension, (OfxPropertySetHandle h, const char *property, int *n), (h, property, n))
#undef CH_TRACE

const OfxPropertySuiteV1 gTracingProps = {
  trace_propSetPointer, trace_propSetString, trace_propSetDouble, trace_propSetInt,
  trace_propSetPointerN, trace_propSetStringN, trace_propSetDoubleN, trace_propSetIntN,
  trace_propGetPointer, trace_propGetString, trace_propGetDouble, trace_propGetInt,
  trace_propGetPointerN, trace_propGetStringN, trace_propGetDoubleN, trace_propGetIntN,
  trace_propReset, trace_propGetDimension,
};

// ---------------------------------------------------------------------------
// Host descriptor

class TestHost : public OHI::Host {
public:
  TestHost() {
    _properties.setStringProperty(kOfxPropName, "org.collapseofx.hostsupport-test");
    _properties.setStringProperty(kOfxPropLabel, "Collapse HostSupport test host");
    _properties.setIntProperty(kOfxPropAPIVersion, 1, 0);
    _properties.setIntProperty(kOfxPropAPIVersion, 4, 1);
    _properties.setIntProperty(kOfxPropVersion, 1, 0);
    _properties.setIntProperty(kOfxPropVersion, 0, 1);
    _properties.setIntProperty(kOfxPropVersion, 0, 2);
    _properties.setStringProperty(kOfxPropVersionLabel, "1.0");
    _properties.setIntProperty(kOfxImageEffectHostPropIsBackground, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsOverlays, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultiResolution, 1);
    _properties.setIntProperty(kOfxImageEffectPropSupportsTiles, 1);
    _properties.setIntProperty(kOfxImageEffectPropTemporalClipAccess, 1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedComponents, kOfxImageComponentRGBA, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedComponents, kOfxImageComponentAlpha, 1);
    _properties.setStringProperty(kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthFloat, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts, kOfxImageEffectContextFilter, 0);
    _properties.setStringProperty(kOfxImageEffectPropSupportedContexts, kOfxImageEffectContextGeneral, 1);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultipleClipDepths, 0);
    _properties.setIntProperty(kOfxImageEffectPropSupportsMultipleClipPARs, 0);
    _properties.setIntProperty(kOfxImageEffectPropSetableFrameRate, 0);
    _properties.setIntProperty(kOfxImageEffectPropSetableFielding, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsCustomInteract, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsStringAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsChoiceAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsBooleanAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropSupportsCustomAnimation, 0);
    _properties.setIntProperty(kOfxParamHostPropMaxParameters, -1);
    _properties.setIntProperty(kOfxParamHostPropMaxPages, 0);
    _properties.setIntProperty(kOfxParamHostPropPageRowColumnCount, 0, 0);
    _properties.setIntProperty(kOfxParamHostPropPageRowColumnCount, 0, 1);
  }

  OHI::Instance *newInstance(void *clientData, OHI::ImageEffectPlugin *plugin, OHI::Descriptor &desc,
                             const std::string &context);

  // HostSupport's suites, with the property suite wrapped by the tracing one.
  const void *fetchSuite(const char *suiteName, int suiteVersion) {
    const void *suite = OHI::Host::fetchSuite(suiteName, suiteVersion);
    std::string entry = format("%s v%d%s", suiteName, suiteVersion, suite ? "" : " (not provided)");
    if (std::find(gReport.suites.begin(), gReport.suites.end(), entry) == gReport.suites.end()) gReport.suites.push_back(entry);
    if (suite && std::strcmp(suiteName, kOfxPropertySuite) == 0 && suiteVersion == 1) {
      gRealProps = static_cast<const OfxPropertySuiteV1 *>(suite);
      return &gTracingProps;
    }
    return suite;
  }

  OHI::Descriptor *makeDescriptor(OHI::ImageEffectPlugin *plugin) { return new OHI::Descriptor(plugin); }
  OHI::Descriptor *makeDescriptor(const OHI::Descriptor &rootContext, OHI::ImageEffectPlugin *plugin) {
    return new OHI::Descriptor(rootContext, plugin);
  }
  OHI::Descriptor *makeDescriptor(const std::string &bundlePath, OHI::ImageEffectPlugin *plugin) {
    return new OHI::Descriptor(bundlePath, plugin);
  }

  OfxStatus vmessage(const char *type, const char *id, const char *format, va_list args) {
    std::string t = recordMessage("host-level", type, id, format, args);
    return t == kOfxMessageQuestion ? kOfxStatReplyYes : kOfxStatOK;
  }
  OfxStatus setPersistentMessage(const char *type, const char *id, const char *format, va_list args) {
    recordMessage("host-level persistent", type, id, format, args);
    return kOfxStatOK;
  }
  OfxStatus clearPersistentMessage() { return kOfxStatOK; }
};

// ---------------------------------------------------------------------------
// Parameter instances: each holds its value (no animation)

class TestEffect;

double defaultDouble(OHP::Descriptor &d, int i) { return d.getProperties().getDoubleProperty(kOfxParamPropDefault, i); }
int defaultInt(OHP::Descriptor &d, int i) { return d.getProperties().getIntProperty(kOfxParamPropDefault, i); }

class IntParam : public OHP::IntegerInstance {
  int _v;
public:
  IntParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::IntegerInstance(d, s), _v(defaultInt(d, 0)) {}
  OfxStatus get(int &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, int &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(int v) { _v = v; return kOfxStatOK; }
  OfxStatus set(OfxTime, int v) { _v = v; return kOfxStatOK; }
};

class ChoiceParam : public OHP::ChoiceInstance {
  int _v;
public:
  ChoiceParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::ChoiceInstance(d, s), _v(defaultInt(d, 0)) {}
  OfxStatus get(int &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, int &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(int v) { _v = v; return kOfxStatOK; }
  OfxStatus set(OfxTime, int v) { _v = v; return kOfxStatOK; }
};

class BoolParam : public OHP::BooleanInstance {
  bool _v;
public:
  BoolParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::BooleanInstance(d, s), _v(defaultInt(d, 0) != 0) {}
  OfxStatus get(bool &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, bool &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(bool v) { _v = v; return kOfxStatOK; }
  OfxStatus set(OfxTime, bool v) { _v = v; return kOfxStatOK; }
};

class DoubleParam : public OHP::DoubleInstance {
  double _v;
public:
  DoubleParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::DoubleInstance(d, s), _v(defaultDouble(d, 0)) {}
  OfxStatus get(double &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, double &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(double v) { _v = v; return kOfxStatOK; }
  OfxStatus set(OfxTime, double v) { _v = v; return kOfxStatOK; }
  OfxStatus derive(OfxTime, double &v) { v = 0; return kOfxStatOK; }
  OfxStatus integrate(OfxTime t1, OfxTime t2, double &v) { v = _v * (t2 - t1); return kOfxStatOK; }
};

// Spatial Double2D: a default declared in normalised coordinates is a fraction of
// the project size; the host converts it (HostSupport does not).
class Double2DParam : public OHP::Double2DInstance {
  double _x, _y;
public:
  Double2DParam(OHP::Descriptor &d, OHP::SetInstance *s, double projectW, double projectH)
    : OHP::Double2DInstance(d, s), _x(defaultDouble(d, 0)), _y(defaultDouble(d, 1)) {
    if (d.getDefaultCoordinateSystem() == kOfxParamCoordinatesNormalised) {
      _x *= projectW;
      _y *= projectH;
    }
  }
  OfxStatus get(double &x, double &y) { x = _x; y = _y; return kOfxStatOK; }
  OfxStatus get(OfxTime, double &x, double &y) { x = _x; y = _y; return kOfxStatOK; }
  OfxStatus set(double x, double y) { _x = x; _y = y; return kOfxStatOK; }
  OfxStatus set(OfxTime, double x, double y) { _x = x; _y = y; return kOfxStatOK; }
};

class Integer2DParam : public OHP::Integer2DInstance {
  int _x, _y;
public:
  Integer2DParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::Integer2DInstance(d, s), _x(defaultInt(d, 0)), _y(defaultInt(d, 1)) {}
  OfxStatus get(int &x, int &y) { x = _x; y = _y; return kOfxStatOK; }
  OfxStatus get(OfxTime, int &x, int &y) { x = _x; y = _y; return kOfxStatOK; }
  OfxStatus set(int x, int y) { _x = x; _y = y; return kOfxStatOK; }
  OfxStatus set(OfxTime, int x, int y) { _x = x; _y = y; return kOfxStatOK; }
};

class Double3DParam : public OHP::Double3DInstance {
  double _v[3];
public:
  Double3DParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::Double3DInstance(d, s) {
    for (int i = 0; i < 3; ++i) _v[i] = defaultDouble(d, i);
  }
  OfxStatus get(double &a, double &b, double &c) { a = _v[0]; b = _v[1]; c = _v[2]; return kOfxStatOK; }
  OfxStatus get(OfxTime, double &a, double &b, double &c) { return get(a, b, c); }
  OfxStatus set(double a, double b, double c) { _v[0] = a; _v[1] = b; _v[2] = c; return kOfxStatOK; }
  OfxStatus set(OfxTime, double a, double b, double c) { return set(a, b, c); }
};

class Integer3DParam : public OHP::Integer3DInstance {
  int _v[3];
public:
  Integer3DParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::Integer3DInstance(d, s) {
    for (int i = 0; i < 3; ++i) _v[i] = defaultInt(d, i);
  }
  OfxStatus get(int &a, int &b, int &c) { a = _v[0]; b = _v[1]; c = _v[2]; return kOfxStatOK; }
  OfxStatus get(OfxTime, int &a, int &b, int &c) { return get(a, b, c); }
  OfxStatus set(int a, int b, int c) { _v[0] = a; _v[1] = b; _v[2] = c; return kOfxStatOK; }
  OfxStatus set(OfxTime, int a, int b, int c) { return set(a, b, c); }
};

class RGBParam : public OHP::RGBInstance {
  double _v[3];
public:
  RGBParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::RGBInstance(d, s) {
    for (int i = 0; i < 3; ++i) _v[i] = defaultDouble(d, i);
  }
  OfxStatus get(double &r, double &g, double &b) { r = _v[0]; g = _v[1]; b = _v[2]; return kOfxStatOK; }
  OfxStatus get(OfxTime, double &r, double &g, double &b) { return get(r, g, b); }
  OfxStatus set(double r, double g, double b) { _v[0] = r; _v[1] = g; _v[2] = b; return kOfxStatOK; }
  OfxStatus set(OfxTime, double r, double g, double b) { return set(r, g, b); }
};

class RGBAParam : public OHP::RGBAInstance {
  double _v[4];
public:
  RGBAParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::RGBAInstance(d, s) {
    for (int i = 0; i < 4; ++i) _v[i] = defaultDouble(d, i);
  }
  OfxStatus get(double &r, double &g, double &b, double &a) { r = _v[0]; g = _v[1]; b = _v[2]; a = _v[3]; return kOfxStatOK; }
  OfxStatus get(OfxTime, double &r, double &g, double &b, double &a) { return get(r, g, b, a); }
  OfxStatus set(double r, double g, double b, double a) { _v[0] = r; _v[1] = g; _v[2] = b; _v[3] = a; return kOfxStatOK; }
  OfxStatus set(OfxTime, double r, double g, double b, double a) { return set(r, g, b, a); }
};

class StringParam : public OHP::StringInstance {
  std::string _v;
public:
  StringParam(OHP::Descriptor &d, OHP::SetInstance *s)
    : OHP::StringInstance(d, s), _v(d.getProperties().getStringProperty(kOfxParamPropDefault, 0)) {}
  OfxStatus get(std::string &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, std::string &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(const char *v) { _v = v ? v : ""; return kOfxStatOK; }
  OfxStatus set(OfxTime, const char *v) { return set(v); }
};

class CustomParam : public OHP::CustomInstance {
  std::string _v;
public:
  CustomParam(OHP::Descriptor &d, OHP::SetInstance *s)
    : OHP::CustomInstance(d, s), _v(d.getProperties().getStringProperty(kOfxParamPropDefault, 0)) {}
  OfxStatus get(std::string &v) { v = _v; return kOfxStatOK; }
  OfxStatus get(OfxTime, std::string &v) { v = _v; return kOfxStatOK; }
  OfxStatus set(const char *v) { _v = v ? v : ""; return kOfxStatOK; }
  OfxStatus set(OfxTime, const char *v) { return set(v); }
};

class PushbuttonParam : public OHP::PushbuttonInstance {
public:
  PushbuttonParam(OHP::Descriptor &d, OHP::SetInstance *s) : OHP::PushbuttonInstance(d, s) {}
};

// ---------------------------------------------------------------------------
// Clips and images

// An image over a clip's buffer: no pixel ownership, the clip keeps the buffer.
class BufferImage : public OHI::Image {
public:
  BufferImage(OHI::ClipInstance &clip, Frame &frame, const OfxRectI &bounds, const std::string &uid) : OHI::Image(clip) {
    float *data = frame.at(std::min(bounds.x1, W - 1), std::min(bounds.y1, H - 1));
    setDoubleProperty(kOfxImageEffectPropRenderScale, 1.0, 0);
    setDoubleProperty(kOfxImageEffectPropRenderScale, 1.0, 1);
    setPointerProperty(kOfxImagePropData, data);
    setIntProperty(kOfxImagePropBounds, bounds.x1, 0);
    setIntProperty(kOfxImagePropBounds, bounds.y1, 1);
    setIntProperty(kOfxImagePropBounds, bounds.x2, 2);
    setIntProperty(kOfxImagePropBounds, bounds.y2, 3);
    setIntProperty(kOfxImagePropRegionOfDefinition, 0, 0);
    setIntProperty(kOfxImagePropRegionOfDefinition, 0, 1);
    setIntProperty(kOfxImagePropRegionOfDefinition, W, 2);
    setIntProperty(kOfxImagePropRegionOfDefinition, H, 3);
    setIntProperty(kOfxImagePropRowBytes, int(W * 4 * sizeof(float)));
    setStringProperty(kOfxImagePropField, kOfxImageFieldNone);
    setStringProperty(kOfxImagePropUniqueIdentifier, uid);
  }
};

class TestClip : public OHI::ClipInstance {
  std::string _name;
  bool _connected;
  Frame *_frame;  // the Source plate or the Output buffer; null when unconnected
public:
  int fetches;
  std::vector<std::string> fetchLog;

  TestClip(OHI::Instance *effect, OHI::ClipDescriptor &desc, Frame *frame)
    : OHI::ClipInstance(effect, desc), _name(desc.getName()), _connected(frame != 0), _frame(frame), fetches(0) {}

  const std::string &getUnmappedBitDepth() const {
    static const std::string v(kOfxBitDepthFloat);
    return v;
  }
  const std::string &getUnmappedComponents() const {
    static const std::string v(kOfxImageComponentRGBA);
    return v;
  }
  const std::string &getPremult() const {
    static const std::string opaque(kOfxImageOpaque), premult(kOfxImagePreMultiplied);
    return isOutput() ? premult : opaque;
  }
  double getAspectRatio() const { return 1.0; }
  double getFrameRate() const { return 24.0; }
  void getFrameRange(double &a, double &b) const { a = 0; b = 100; }
  const std::string &getFieldOrder() const {
    static const std::string v(kOfxImageFieldNone);
    return v;
  }
  bool getConnected() const { return _connected; }
  double getUnmappedFrameRate() const { return 24.0; }
  void getUnmappedFrameRange(double &a, double &b) const { a = 0; b = 100; }
  bool getContinuousSamples() const { return false; }

  OfxRectD getRegionOfDefinition(OfxTime) const {
    OfxRectD r = {0, 0, 0, 0};
    if (_connected) {
      r.x2 = W;
      r.y2 = H;
    }
    return r;
  }

  OHI::Image *getImage(OfxTime time, const OfxRectD *optionalBounds) {
    fetches++;
    std::string what = optionalBounds
      ? format("%s@%g (%g,%g,%g,%g)", _name.c_str(), time, optionalBounds->x1, optionalBounds->y1, optionalBounds->x2, optionalBounds->y2)
      : format("%s@%g (default region)", _name.c_str(), time);
    fetchLog.push_back(what);
    if (!_connected) return 0;
    OfxRectI b = {0, 0, W, H};
    if (optionalBounds) {  // the requested region, clipped to the RoD (HostSupport does not clip)
      b.x1 = std::max(0, int(std::floor(optionalBounds->x1)));
      b.y1 = std::max(0, int(std::floor(optionalBounds->y1)));
      b.x2 = std::min(W, int(std::ceil(optionalBounds->x2)));
      b.y2 = std::min(H, int(std::ceil(optionalBounds->y2)));
      if (b.x2 < b.x1) b.x2 = b.x1;
      if (b.y2 < b.y1) b.y2 = b.y1;
    }
    return new BufferImage(*this, *_frame, b, format("%s-%g", _name.c_str(), time));
  }
};

// ---------------------------------------------------------------------------
// Effect instance

class TestEffect : public OHI::Instance {
public:
  Frame *plate;
  Frame output;
  std::vector<std::string> unsupportedParams;
  std::vector<std::string> persistentMessages;
  int progressCalls;

  TestEffect(OHI::ImageEffectPlugin *plugin, OHI::Descriptor &desc, const std::string &context, Frame *plate_)
    : OHI::Instance(plugin, desc, context, false), plate(plate_), progressCalls(0) {}

  const std::string &getDefaultOutputFielding() const {
    static const std::string v(kOfxImageFieldNone);
    return v;
  }

  OHI::ClipInstance *newClipInstance(OHI::Instance *, OHI::ClipDescriptor *descriptor, int) {
    const std::string &name = descriptor->getName();
    Frame *frame = 0;
    if (name == kOfxImageEffectOutputClipName) frame = &output;
    else if (name == kOfxImageEffectSimpleSourceClipName) frame = plate;
    // Mask, Background and any other input: left unconnected.
    return new TestClip(this, *descriptor, frame);
  }

  OfxStatus vmessage(const char *type, const char *id, const char *format, va_list args) {
    std::string t = recordMessage("instance", type, id, format, args);
    return t == kOfxMessageQuestion ? kOfxStatReplyYes : kOfxStatOK;
  }
  OfxStatus setPersistentMessage(const char *type, const char *id, const char *format, va_list args) {
    va_list copy;
    va_copy(copy, args);
    persistentMessages.push_back(vformat(format, copy));
    va_end(copy);
    recordMessage("instance persistent", type, id, format, args);
    return kOfxStatOK;
  }
  OfxStatus clearPersistentMessage() {
    persistentMessages.clear();
    return kOfxStatOK;
  }

  void getProjectSize(double &x, double &y) const { x = W; y = H; }
  void getProjectOffset(double &x, double &y) const { x = 0; y = 0; }
  void getProjectExtent(double &x, double &y) const { x = W; y = H; }
  double getProjectPixelAspectRatio() const { return 1.0; }
  double getEffectDuration() const { return 100.0; }
  double getFrameRate() const { return 24.0; }
  double getFrameRecursive() const { return 0.0; }
  void getRenderScaleRecursive(double &x, double &y) const { x = y = 1.0; }

  OHP::Instance *newParam(const std::string &name, OHP::Descriptor &d) {
    const std::string &t = d.getType();
    if (t == kOfxParamTypeInteger) return new IntParam(d, this);
    if (t == kOfxParamTypeDouble) return new DoubleParam(d, this);
    if (t == kOfxParamTypeBoolean) return new BoolParam(d, this);
    if (t == kOfxParamTypeChoice) return new ChoiceParam(d, this);
    if (t == kOfxParamTypeRGBA) return new RGBAParam(d, this);
    if (t == kOfxParamTypeRGB) return new RGBParam(d, this);
    if (t == kOfxParamTypeDouble2D) return new Double2DParam(d, this, W, H);
    if (t == kOfxParamTypeInteger2D) return new Integer2DParam(d, this);
    if (t == kOfxParamTypeDouble3D) return new Double3DParam(d, this);
    if (t == kOfxParamTypeInteger3D) return new Integer3DParam(d, this);
    if (t == kOfxParamTypeString) return new StringParam(d, this);
    if (t == kOfxParamTypeCustom) return new CustomParam(d, this);
    if (t == kOfxParamTypePushButton) return new PushbuttonParam(d, this);
    if (t == kOfxParamTypeGroup) return new OHP::GroupInstance(d, this);
    if (t == kOfxParamTypePage) return new OHP::PageInstance(d, this);
    unsupportedParams.push_back(name + " (" + t + ")");
    return 0;
  }
  OfxStatus editBegin(const std::string &) { return kOfxStatOK; }
  OfxStatus editEnd() { return kOfxStatOK; }

  void progressStart(const std::string &, const std::string &) { progressCalls++; }
  void progressEnd() {}
  bool progressUpdate(double) { progressCalls++; return true; }

  double timeLineGetTime() { return 0; }
  void timeLineGotoTime(double) {}
  void timeLineGetBounds(double &t1, double &t2) { t1 = 0; t2 = 100; }

  TestClip *clip(const char *name) const { return dynamic_cast<TestClip *>(getClip(name)); }
};

OHI::Instance *TestHost::newInstance(void *clientData, OHI::ImageEffectPlugin *plugin, OHI::Descriptor &desc,
                                     const std::string &context) {
  return new TestEffect(plugin, desc, context, static_cast<Frame *>(clientData));
}

// ---------------------------------------------------------------------------
// Comparisons

struct Diff {
  long changed = 0, changedRegion = 0, changedFar = 0, regionPixels = 0, farPixels = 0;
  long unwritten = 0, nonFinite = 0;
  double maxDiff = 0;
  int bx1 = W, by1 = H, bx2 = 0, by2 = 0;  // bounding box of the changed pixels
};

bool inRegion(int x, int y) { return x >= RX && x < RX + RW && y >= RY && y < RY + RH; }
// Far outside: beyond the region grown by its own width / height on every side
// (the default model's reach is at most 0.75 of the region's size).
bool isFar(int x, int y) { return x < RX - RW || x >= RX + 2 * RW || y < RY - RH || y >= RY + 2 * RH; }

Diff compare(const Frame &out, const Frame &src) {
  Diff d;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float *o = out.at(x, y), *s = src.at(x, y);
      bool region = inRegion(x, y), far = isFar(x, y);
      d.regionPixels += region;
      d.farPixels += far;
      bool unwritten = false, nonFinite = false, changed = false;
      double m = 0;
      for (int c = 0; c < 4; ++c) {
        if (o[c] == kSentinel) unwritten = true;
        if (!std::isfinite(o[c])) nonFinite = true;
        if (o[c] != s[c]) changed = true;
        if (std::isfinite(o[c])) m = std::max(m, double(std::fabs(o[c] - s[c])));
      }
      d.unwritten += unwritten;
      d.nonFinite += nonFinite;
      if (changed) {
        d.changed++;
        d.changedRegion += region;
        d.changedFar += far;
        d.maxDiff = std::max(d.maxDiff, m);
        d.bx1 = std::min(d.bx1, x); d.by1 = std::min(d.by1, y);
        d.bx2 = std::max(d.bx2, x + 1); d.by2 = std::max(d.by2, y + 1);
      }
    }
  return d;
}

double maxAbsDiff(const Frame &a, const Frame &b, long *mismatched) {
  double m = 0;
  long n = 0;
  for (size_t i = 0; i < a.px.size(); i += 4) {
    bool differs = false;
    for (int c = 0; c < 4; ++c) {
      float x = a.px[i + c], y = b.px[i + c];
      if (x != y) {
        differs = true;
        m = std::max(m, (std::isfinite(x) && std::isfinite(y)) ? double(std::fabs(x - y)) : 1e30);
      }
    }
    n += differs;
  }
  if (mismatched) *mismatched = n;
  return m;
}

std::string rectStr(const OfxRectD &r) { return format("%g,%g,%g,%g", r.x1, r.y1, r.x2, r.y2); }
std::string rectStr(const OfxRectI &r) { return format("%d,%d,%d,%d", r.x1, r.y1, r.x2, r.y2); }

bool okOrDefault(OfxStatus s) { return s == kOfxStatOK || s == kOfxStatReplyDefault; }

// ---------------------------------------------------------------------------
// Host-side render of one window, as a host does it: RoIs, isIdentity (a copy
// of the named clip when it says so), else render.

struct WindowResult {
  OfxStatus roiStatus, identityStatus, renderStatus;
  std::string identityClip;
  double identityTime;
  bool rendered;
  double renderMs;
};

WindowResult renderWindow(TestEffect &fx, OfxTime t, const OfxRectI &window, bool askIdentity, const std::string &tag) {
  WindowResult r;
  OfxPointD scale = {1.0, 1.0};
  OfxRectD roi = {double(window.x1), double(window.y1), double(window.x2), double(window.y2)};
  std::map<OHI::ClipInstance *, OfxRectD> rois;
  r.roiStatus = fx.getRegionOfInterestAction(t, scale, roi, rois);
  std::string roiText;
  for (std::map<OHI::ClipInstance *, OfxRectD>::iterator it = rois.begin(); it != rois.end(); ++it) {
    roiText += (roiText.empty() ? "" : " ") + it->first->getName() + "=(" + rectStr(it->second) + ")";
    summary(tag + "_roi_" + it->first->getName(), rectStr(it->second));
  }
  note("%s: getRegionsOfInterest(%s) -> %s: %s", tag.c_str(), rectStr(roi).c_str(), stat(r.roiStatus), roiText.c_str());
  if (!okOrDefault(r.roiStatus)) fail("%s: kOfxImageEffectActionGetRegionsOfInterest returned %s", tag.c_str(), stat(r.roiStatus));

  r.identityStatus = kOfxStatReplyDefault;
  r.identityTime = t;
  r.rendered = false;
  r.renderMs = 0;
  if (askIdentity) {
    OfxTime it = t;
    std::string clipName;
    r.identityStatus = fx.isIdentityAction(it, kOfxImageFieldNone, window, scale, clipName);
    note("%s: isIdentity -> %s%s", tag.c_str(), stat(r.identityStatus),
         r.identityStatus == kOfxStatOK ? format(" (clip %s at %g)", clipName.c_str(), it).c_str() : "");
    if (!okOrDefault(r.identityStatus)) fail("%s: kOfxImageEffectActionIsIdentity returned %s", tag.c_str(), stat(r.identityStatus));
    if (r.identityStatus == kOfxStatOK) {
      r.identityClip = clipName;
      r.identityTime = it;
      TestClip *c = fx.clip(clipName.c_str());
      if (!c || !c->getConnected()) {
        fail("%s: isIdentity named clip '%s', which is not a connected input", tag.c_str(), clipName.c_str());
      } else {
        // The host skips render and copies the named clip's image (our plate is time-invariant).
        for (int y = window.y1; y < window.y2; ++y)
          for (int x = window.x1; x < window.x2; ++x) std::copy(fx.plate->at(x, y), fx.plate->at(x, y) + 4, fx.output.at(x, y));
        r.renderStatus = kOfxStatOK;
        return r;
      }
    }
  }
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  r.renderStatus = fx.renderAction(t, kOfxImageFieldNone, window, scale, true, false, false);
  r.renderMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.rendered = true;
  note("%s: render(%s) -> %s in %.1f ms", tag.c_str(), rectStr(window).c_str(), stat(r.renderStatus), r.renderMs);
  if (r.renderStatus != kOfxStatOK) fail("%s: kOfxImageEffectActionRender returned %s", tag.c_str(), stat(r.renderStatus));
  return r;
}

// ---------------------------------------------------------------------------
// The checks

void describeContexts(OHI::ImageEffectPlugin *plugin) {
  const char *contexts[] = {kOfxImageEffectContextGeneral, kOfxImageEffectContextFilter};
  const char *tags[] = {"general", "filter"};
  for (int i = 0; i < 2; ++i) {
    OHI::Descriptor *d = plugin->getContext(contexts[i]);
    summary(std::string("describe_in_context_") + tags[i], d ? "OK" : "FAILED");
    if (!d) {
      fail("kOfxImageEffectActionDescribeInContext(%s) failed (see the OFX: trace above for the status)", contexts[i]);
      continue;
    }
    std::string clips;
    const std::vector<OHI::ClipDescriptor *> &byOrder = d->getClipsByOrder();
    for (size_t c = 0; c < byOrder.size(); ++c) {
      OHI::ClipDescriptor *cd = byOrder[c];
      std::string comps;
      const std::vector<std::string> &sc = cd->getSupportedComponents();
      for (size_t k = 0; k < sc.size(); ++k) comps += (k ? "," : "") + sc[k];
      note("%s clip %s: optional=%d mask=%d tiles=%d components=%s", tags[i], cd->getName().c_str(), int(cd->isOptional()),
           int(cd->isMask()), int(cd->supportsTiles()), comps.c_str());
      clips += (c ? "," : "") + cd->getName();
    }
    summary(std::string("clips_") + tags[i], clips);
    const std::list<OHP::Descriptor *> &params = d->getParamList();
    std::string names;
    for (std::list<OHP::Descriptor *>::const_iterator it = params.begin(); it != params.end(); ++it)
      names += (names.empty() ? "" : ",") + (*it)->getName() + ":" + (*it)->getType().substr(std::strlen("OfxParamType"));
    summary(std::string("params_") + tags[i], double(params.size()));
    note("%s params (%d): %s", tags[i], int(params.size()), names.c_str());
  }
}

template <class P> P *param(TestEffect &fx, const char *name) {
  P *p = dynamic_cast<P *>(fx.getParam(name));
  if (!p) fail("parameter '%s' is missing or not of the expected type", name);
  return p;
}

// Sets the test's parameter values the way a user edit does: inside
// begin/endInstanceChanged, with one kOfxActionInstanceChanged per parameter.
void editParams(TestEffect &fx, const std::string &tag) {
  OfxPointD scale = {1.0, 1.0};
  OfxStatus s = fx.beginInstanceChangedAction(kOfxChangeUserEdited);
  if (!okOrDefault(s)) fail("%s: kOfxActionBeginInstanceChanged returned %s", tag.c_str(), stat(s));
  std::vector<std::string> edited;
  if (Double2DParam *p = param<Double2DParam>(fx, "bottomLeft")) { p->set(RX, RY); edited.push_back("bottomLeft"); }
  if (Double2DParam *p = param<Double2DParam>(fx, "size")) { p->set(RW, RH); edited.push_back("size"); }
  if (DoubleParam *p = param<DoubleParam>(fx, "startFrame")) { p->set(kStartFrame); edited.push_back("startFrame"); }
  if (DoubleParam *p = param<DoubleParam>(fx, "duration")) { p->set(kDuration); edited.push_back("duration"); }
  if (IntParam *p = param<IntParam>(fx, "seed")) { p->set(7); edited.push_back("seed"); }
  // CPU explicitly, so that the numbers do not depend on the machine having a GPU.
  if (ChoiceParam *p = param<ChoiceParam>(fx, "device")) { p->set(1); edited.push_back("device"); }
  for (size_t i = 0; i < edited.size(); ++i) {
    s = fx.paramInstanceChangedAction(edited[i], kOfxChangeUserEdited, 0.0, scale);
    if (!okOrDefault(s)) fail("%s: kOfxActionInstanceChanged(%s) returned %s", tag.c_str(), edited[i].c_str(), stat(s));
  }
  s = fx.endInstanceChangedAction(kOfxChangeUserEdited);
  if (!okOrDefault(s)) fail("%s: kOfxActionEndInstanceChanged returned %s", tag.c_str(), stat(s));
  summary(tag + "_params_edited", double(edited.size()));
}

// Creates an instance in `context`, runs createInstance and the user edits, and
// the clip preferences. Returns null (after FAILs) when it cannot go on.
TestEffect *makeInstance(OHI::ImageEffectPlugin *plugin, const char *context, Frame *plate, const std::string &tag) {
  TestEffect *fx = dynamic_cast<TestEffect *>(plugin->createInstance(context, plate));
  if (!fx) {
    fail("%s: createInstance(%s) gave no instance (load, describe or describeInContext failed)", tag.c_str(), context);
    return 0;
  }
  for (size_t i = 0; i < fx->unsupportedParams.size(); ++i)
    fail("%s: no host parameter instance for %s", tag.c_str(), fx->unsupportedParams[i].c_str());
  // populate() stops at the first parameter it cannot make: check they all exist.
  const std::list<OHP::Descriptor *> &params = fx->getDescriptor().getParamList();
  for (std::list<OHP::Descriptor *>::const_iterator it = params.begin(); it != params.end(); ++it)
    if (!fx->getParam((*it)->getName())) fail("%s: parameter %s has no instance", tag.c_str(), (*it)->getName().c_str());

  if (Double2DParam *p = param<Double2DParam>(*fx, "bottomLeft")) {
    double x, y;
    p->get(x, y);
    summary(tag + "_default_bottomLeft", format("%g,%g", x, y));
    summary(tag + "_bottomLeft_coordinates", p->getDefaultCoordinateSystem());
  }
  if (Double2DParam *p = param<Double2DParam>(*fx, "size")) {
    double x, y;
    p->get(x, y);
    summary(tag + "_default_size", format("%g,%g", x, y));
  }

  OfxStatus s = fx->createInstanceAction();
  summary(tag + "_create_instance", stat(s));
  if (!okOrDefault(s)) {
    fail("%s: kOfxActionCreateInstance returned %s", tag.c_str(), stat(s));
    delete fx;
    return 0;
  }
  editParams(*fx, tag);

  bool prefs = false;
  try {
    prefs = fx->getClipPreferences();
  } catch (OFX::Host::Property::Exception &e) {
    fail("%s: getClipPreferences threw a HostSupport property exception (%s)", tag.c_str(), stat(e.getStatus()));
  }
  summary(tag + "_clip_preferences", prefs ? "OK" : "FAILED");
  if (!prefs) fail("%s: kOfxImageEffectActionGetClipPreferences failed (see the OFX: trace above for the status)", tag.c_str());
  const char *names[] = {"Source", "Mask", "Background", "Output"};
  for (int i = 0; i < 4; ++i) {
    TestClip *c = fx->clip(names[i]);
    if (!c) {
      fail("%s: the instance has no clip %s", tag.c_str(), names[i]);
      continue;
    }
    note("%s clip %s: connected=%d depth=%s components=%s", tag.c_str(), names[i], int(c->getConnected()),
         c->getPixelDepth().c_str(), c->getComponents().c_str());
    if (std::string(names[i]) == "Output") {
      summary(tag + "_output_depth", c->getPixelDepth());
      summary(tag + "_output_components", c->getComponents());
    }
  }
  summary(tag + "_output_premult", fx->getOutputPreMultiplication());
  return fx;
}

void checkRoD(TestEffect &fx, OfxTime t, const std::string &tag) {
  OfxPointD scale = {1.0, 1.0};
  OfxRectD rod = {0, 0, 0, 0};
  OfxStatus s = kOfxStatFailed;
  try {
    s = fx.getRegionOfDefinitionAction(t, scale, rod);
  } catch (OFX::Host::Property::Exception &e) {
    fail("%s: getRegionOfDefinition threw a HostSupport property exception (%s)", tag.c_str(), stat(e.getStatus()));
  }
  note("%s: getRegionOfDefinition -> %s (%s)", tag.c_str(), stat(s), rectStr(rod).c_str());
  summary(tag + "_rod", rectStr(rod));
  if (!okOrDefault(s)) fail("%s: kOfxImageEffectActionGetRegionOfDefinition returned %s", tag.c_str(), stat(s));
  if (rod.x1 != 0 || rod.y1 != 0 || rod.x2 != W || rod.y2 != H)
    fail("%s: region of definition %s, expected the Source's 0,0,%d,%d", tag.c_str(), rectStr(rod).c_str(), W, H);
}

void reportFrame(TestEffect &fx, const std::string &tag, const WindowResult &r, const Diff &d) {
  summary(tag + "_identity", r.identityStatus == kOfxStatOK ? format("%s@%g", r.identityClip.c_str(), r.identityTime) : "none");
  summary(tag + "_render", r.rendered ? stat(r.renderStatus) : "skipped (identity)");
  summary(tag + "_render_ms", r.renderMs);
  summary(tag + "_changed", double(d.changed));
  summary(tag + "_max_diff", d.maxDiff);
  summary(tag + "_changed_region", double(d.changedRegion));
  summary(tag + "_region_pixels", double(d.regionPixels));
  summary(tag + "_changed_far", double(d.changedFar));
  summary(tag + "_far_pixels", double(d.farPixels));
  summary(tag + "_unwritten", double(d.unwritten));
  summary(tag + "_nonfinite", double(d.nonFinite));
  summary(tag + "_changed_bbox", d.changed ? format("%d,%d,%d,%d", d.bx1, d.by1, d.bx2, d.by2) : "none");
  TestClip *src = fx.clip("Source");
  if (src) summary(tag + "_source_fetches", double(src->fetches));
  note("%s: changed %ld pixels (max difference %.6g; %ld of %ld inside the region, %ld of %ld far outside), "
       "unwritten %ld, non-finite %ld", tag.c_str(), d.changed, d.maxDiff, d.changedRegion, d.regionPixels,
       d.changedFar, d.farPixels, d.unwritten, d.nonFinite);
  if (d.unwritten) fail("%s: %ld pixels of the render window were never written", tag.c_str(), d.unwritten);
  if (d.nonFinite) fail("%s: %ld output pixels are NaN or infinite", tag.c_str(), d.nonFinite);
}

int run(const std::string &outDir) {
  Frame plate = makePlate();
  if (!outDir.empty()) writePPM(outDir + "/source.ppm", plate);

  OFX::Host::PluginCache::getPluginCache()->setCacheVersion("collapseHostSupportTestV1");
  TestHost host;
  OHI::PluginCache imageEffectCache(host);
  imageEffectCache.registerInCache(*OFX::Host::PluginCache::getPluginCache());

  const char *path = getenv("OFX_PLUGIN_PATH");
  note("OFX_PLUGIN_PATH=%s", path ? path : "(unset)");
  OFX::Host::PluginCache::getPluginCache()->scanPluginFiles();
  const std::list<OFX::Host::Plugin *> &all = OFX::Host::PluginCache::getPluginCache()->getPlugins();
  for (std::list<OFX::Host::Plugin *>::const_iterator it = all.begin(); it != all.end(); ++it)
    note("found plugin %s v%d.%d (%s v%d) in %s", (*it)->getIdentifier().c_str(), (*it)->getVersionMajor(),
         (*it)->getVersionMinor(), (*it)->getPluginApi().c_str(), (*it)->getApiVersion(), (*it)->getBinary()->getFilePath().c_str());
  summary("plugins_found", double(all.size()));
  if (!outDir.empty()) {
    std::ofstream cache((outDir + "/plugin_cache.xml").c_str());
    OFX::Host::PluginCache::getPluginCache()->writePluginCache(cache);
  }

  OHI::ImageEffectPlugin *plugin = imageEffectCache.getPluginById(kPluginId);
  summary("plugin_found", plugin ? "1" : "0");
  if (!plugin) {
    fail("HostSupport did not find %s on OFX_PLUGIN_PATH (load or describe failed, or the bundle is not there)", kPluginId);
    return 1;
  }
  summary("plugin_version", format("%d.%d", plugin->getVersionMajor(), plugin->getVersionMinor()));
  const OFX::Host::Property::Set &props = plugin->getDescriptor().getProps();
  summary("label", props.getStringProperty(kOfxPropLabel));
  summary("grouping", props.getStringProperty(kOfxImageEffectPluginPropGrouping));
  summary("render_thread_safety", props.getStringProperty(kOfxImageEffectPluginRenderThreadSafety));
  summary("supports_tiles", double(props.getIntProperty(kOfxImageEffectPropSupportsTiles)));
  std::string contexts;
  const std::set<std::string> &cs = plugin->getContexts();
  for (std::set<std::string>::const_iterator it = cs.begin(); it != cs.end(); ++it) contexts += (contexts.empty() ? "" : ",") + *it;
  summary("contexts", contexts);
  note("plugin %s: label '%s', contexts %s", kPluginId, props.getStringProperty(kOfxPropLabel).c_str(), contexts.c_str());

  describeContexts(plugin);

  // ---- General context: the full render path
  std::unique_ptr<TestEffect> fx(makeInstance(plugin, kOfxImageEffectContextGeneral, &plate, "general"));
  Frame full13;
  if (fx) {
    OfxPointD scale = {1.0, 1.0};
    OfxStatus s = fx->beginRenderAction(0, 13, 1, false, scale, true, false);
    if (!okOrDefault(s)) fail("kOfxImageEffectActionBeginSequenceRender returned %s", stat(s));
    const OfxTime frames[] = {0, 13};
    for (int i = 0; i < 2; ++i) {
      OfxTime t = frames[i];
      std::string tag = format("f%g", t);
      checkRoD(*fx, t, tag);
      OfxRectI window = {0, 0, W, H};
      // Render even when isIdentity says "Source": the render itself must then give the plate.
      std::fill(fx->output.px.begin(), fx->output.px.end(), kSentinel);
      WindowResult id = renderWindow(*fx, t, window, true, tag);
      if (id.identityStatus == kOfxStatOK) {
        std::fill(fx->output.px.begin(), fx->output.px.end(), kSentinel);
        WindowResult r = renderWindow(*fx, t, window, false, tag + "_forced");
        id.rendered = r.rendered;
        id.renderStatus = r.renderStatus;
        id.renderMs = r.renderMs;
      }
      Diff d = compare(fx->output, plate);
      reportFrame(*fx, tag, id, d);
      if (!outDir.empty()) writePPM(outDir + "/" + tag + ".ppm", fx->output);
      if (t == 13) full13 = fx->output;
    }

    // isIdentity probes at frame 13: far from the region the plugin must say "Source".
    OfxRectI farLeft = {0, 0, int(RX - RW), H}, farRight = {int(RX + 2 * RW), 0, W, H}, region = {int(RX), int(RY), int(RX + RW), int(RY + RH)};
    const OfxRectI probes[] = {farLeft, farRight, region};
    const char *probeNames[] = {"far_left", "far_right", "region"};
    for (int i = 0; i < 3; ++i) {
      OfxTime it = 13;
      std::string clipName;
      OfxStatus ps = fx->isIdentityAction(it, kOfxImageFieldNone, probes[i], scale, clipName);
      summary(std::string("f13_identity_") + probeNames[i], ps == kOfxStatOK ? format("%s@%g", clipName.c_str(), it) : "none");
      if (!okOrDefault(ps)) fail("isIdentity probe %s returned %s", probeNames[i], stat(ps));
    }

    // Frame 13 again in four tiles: identity tiles are copies, the others rendered.
    std::fill(fx->output.px.begin(), fx->output.px.end(), kSentinel);
    const OfxRectI tiles[] = {{0, 0, W / 2, H / 2}, {W / 2, 0, W, H / 2}, {0, H / 2, W / 2, H}, {W / 2, H / 2, W, H}};
    int rendered = 0, copied = 0;
    for (int i = 0; i < 4; ++i) {
      WindowResult r = renderWindow(*fx, 13, tiles[i], true, format("f13_tile%d", i));
      rendered += r.rendered;
      copied += !r.rendered;
    }
    long mismatched = 0;
    double tileDiff = maxAbsDiff(fx->output, full13, &mismatched);
    summary("f13_tiles_rendered", double(rendered));
    summary("f13_tiles_identity", double(copied));
    summary("f13_tiles_max_diff", tileDiff);
    summary("f13_tiles_mismatched", double(mismatched));
    note("frame 13 in tiles (%d rendered, %d identity): %ld pixels differ from the full-frame render, max %.6g", rendered, copied,
         mismatched, tileDiff);

    s = fx->endRenderAction(0, 13, 1, false, scale, true, false);
    if (!okOrDefault(s)) fail("kOfxImageEffectActionEndSequenceRender returned %s", stat(s));
    summary("persistent_messages_left", double(fx->persistentMessages.size()));
    for (size_t i = 0; i < fx->persistentMessages.size(); ++i) note("persistent message still set: %s", fx->persistentMessages[i].c_str());
  }

  // ---- Filter context: same parameters, frame 13 full frame, must match General
  std::unique_ptr<TestEffect> filter(makeInstance(plugin, kOfxImageEffectContextFilter, &plate, "filter"));
  if (filter && fx) {
    checkRoD(*filter, 13, "filter_f13");
    std::fill(filter->output.px.begin(), filter->output.px.end(), kSentinel);
    OfxRectI window = {0, 0, W, H};
    WindowResult r = renderWindow(*filter, 13, window, true, "filter_f13");
    reportFrame(*filter, "filter_f13", r, compare(filter->output, plate));
    long mismatched = 0;
    double diff = maxAbsDiff(filter->output, full13, &mismatched);
    summary("filter_f13_vs_general_max_diff", diff);
    summary("filter_f13_vs_general_mismatched", double(mismatched));
  }

  filter.reset();  // kOfxActionDestroyInstance
  fx.reset();
  OFX::Host::PluginCache::clearPluginCache();  // unloads the plugin (kOfxActionUnload)
  return 0;
}

}  // namespace collapse_host

int main(int argc, char **argv) {
  using namespace collapse_host;
  setvbuf(stdout, 0, _IOLBF, 0);  // keep our lines in order with the plugin's stderr log
  std::string outDir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) outDir = argv[++i];
    else {
      fprintf(stderr, "usage: OFX_PLUGIN_PATH=DIR %s [--out DIR]\n", argv[0]);
      return 2;
    }
  }
  try {
    run(outDir);
  } catch (OFX::Host::Property::Exception &e) {
    fail("uncaught HostSupport property exception: %s", stat(e.getStatus()));
  } catch (std::exception &e) {
    fail("uncaught exception: %s", e.what());
  }
  std::string suites;
  for (size_t i = 0; i < gReport.suites.size(); ++i) suites += (i ? ", " : "") + gReport.suites[i];
  summary("suites_fetched", suites);
  int propertyFailures = 0;
  for (std::map<std::string, int>::iterator it = gReport.propertyFailures.begin(); it != gReport.propertyFailures.end(); ++it)
    propertyFailures += it->second;
  summary("property_failures", double(propertyFailures));
  summary("messages_total", double(gReport.messages.size()));
  summary("messages_error", double(gReport.errorMessages));
  summary("failures", double(gReport.failures.size()));
  printf("\n");
  for (size_t i = 0; i < gReport.summary.size(); ++i) printf("SUMMARY %s=%s\n", gReport.summary[i].first.c_str(), gReport.summary[i].second.c_str());
  for (std::map<std::string, int>::iterator it = gReport.propertyFailures.begin(); it != gReport.propertyFailures.end(); ++it)
    printf("PROPERTY %s (x%d)\n", it->first.c_str(), it->second);
  for (size_t i = 0; i < gReport.messages.size(); ++i) printf("MESSAGE %s\n", gReport.messages[i].c_str());
  for (size_t i = 0; i < gReport.failures.size(); ++i) printf("FAILURE %s\n", gReport.failures[i].c_str());
  printf("%s\n", gReport.failures.empty() ? "RESULT PASS" : "RESULT FAIL");
  fflush(stdout);
  return gReport.failures.empty() ? 0 : 1;
}
