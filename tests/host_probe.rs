//! The host against a probe plugin written in C (below, built with gcc against
//! our own headers): one well-behaved plugin that uses every suite and every
//! parameter type through the variadic calls, and a naughty twin that commits
//! one protocol violation per value of its `sin` parameter, which the strict
//! host must record while still answering with the right OFX status.

mod host_util;

use collapse_ofx::host::{
    BitDepth, Bundle, ClipSource, Components, Context, HostConfig, InputRegion, Instance,
    MessageLevel, ParamKind, ParamValue, Plugin, ProgressEvent, RowOrder,
};
use host_util::{build_bundle, our_headers, pattern_image, rect, PluginBuild};

const GOOD: &str = "org.collapse.probe.good";
const NAUGHTY: &str = "org.collapse.probe.naughty";

const PROBE_C: &str = r#####"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ofx.h"

#define EXPORT __attribute__((visibility("default")))

static OfxHost *gHost;
static const OfxPropertySuiteV1 *P;
static const OfxImageEffectSuiteV1 *E;
static const OfxParameterSuiteV1 *PS;
static const OfxMemorySuiteV1 *M;
static const OfxMultiThreadSuiteV1 *T;
static const OfxMessageSuiteV1 *MSG1;
static const OfxMessageSuiteV2 *MSG2;
static const OfxProgressSuiteV1 *PROG;
static const OfxTimeLineSuiteV1 *TL;

static void say(void *h, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (MSG1) MSG1->message(h, kOfxMessageLog, "probe", "%s", buf);
}

static OfxStatus on_load(void) {
  P = gHost->fetchSuite(gHost->host, kOfxPropertySuite, 1);
  E = gHost->fetchSuite(gHost->host, kOfxImageEffectSuite, 1);
  PS = gHost->fetchSuite(gHost->host, kOfxParameterSuite, 1);
  M = gHost->fetchSuite(gHost->host, kOfxMemorySuite, 1);
  T = gHost->fetchSuite(gHost->host, kOfxMultiThreadSuite, 1);
  MSG1 = gHost->fetchSuite(gHost->host, kOfxMessageSuite, 1);
  MSG2 = gHost->fetchSuite(gHost->host, kOfxMessageSuite, 2);
  PROG = gHost->fetchSuite(gHost->host, kOfxProgressSuite, 1);
  TL = gHost->fetchSuite(gHost->host, kOfxTimeLineSuite, 1);
  if (gHost->fetchSuite(gHost->host, "OfxNoSuchSuite", 1)) return kOfxStatFailed;
  return (P && E && PS && M && MSG1) ? kOfxStatOK : kOfxStatErrMissingHostFeature;
}

static OfxStatus describe(OfxImageEffectHandle effect, int naughty) {
  OfxPropertySetHandle p;
  E->getPropertySet(effect, &p);
  P->propSetString(p, kOfxPropLabel, 0, naughty ? "Naughty probe" : "Probe");
  P->propSetString(p, kOfxImageEffectPluginPropGrouping, 0, "Collapse/Tests");
  P->propSetString(p, kOfxImageEffectPropSupportedContexts, 0, kOfxImageEffectContextFilter);
  if (!naughty) P->propSetString(p, kOfxImageEffectPropSupportedContexts, 1, kOfxImageEffectContextGeneral);
  P->propSetString(p, kOfxImageEffectPropSupportedPixelDepths, 0, kOfxBitDepthFloat);
  P->propSetString(p, kOfxImageEffectPropSupportedPixelDepths, 1, kOfxBitDepthByte);
  P->propSetString(p, kOfxImageEffectPluginRenderThreadSafety, 0, kOfxImageEffectRenderFullySafe);
  P->propSetInt(p, kOfxImageEffectPropSupportsTiles, 0, 1);
  P->propSetInt(p, kOfxImageEffectPropSupportsMultiResolution, 0, 1);
  P->propSetInt(p, kOfxImageEffectPluginPropFieldRenderTwiceAlways, 0, 0);
  char *host = NULL;
  P->propGetString(gHost->host, kOfxPropName, 0, &host);
  int tiles = -1, depths = -1;
  P->propGetInt(gHost->host, kOfxImageEffectPropSupportsTiles, 0, &tiles);
  P->propGetDimension(gHost->host, kOfxImageEffectPropSupportedPixelDepths, &depths);
  say(effect, "host %s tiles %d depths %d", host, tiles, depths);
  say(effect, "suites mt=%d msg2=%d progress=%d timeline=%d", T != 0, MSG2 != 0, PROG != 0, TL != 0);
  return kOfxStatOK;
}

static OfxPropertySetHandle def(OfxParamSetHandle ps, const char *type, const char *name) {
  OfxPropertySetHandle p = NULL;
  if (PS->paramDefine(ps, type, name, &p) != kOfxStatOK) return NULL;
  return p;
}

static OfxStatus describe_in_context(OfxImageEffectHandle effect, OfxPropertySetHandle in, int naughty) {
  char *context = NULL;
  P->propGetString(in, kOfxImageEffectPropContext, 0, &context);
  OfxPropertySetHandle c;
  E->clipDefine(effect, kOfxImageEffectOutputClipName, &c);
  P->propSetString(c, kOfxImageEffectPropSupportedComponents, 0, kOfxImageComponentRGBA);
  E->clipDefine(effect, kOfxImageEffectSimpleSourceClipName, &c);
  P->propSetString(c, kOfxImageEffectPropSupportedComponents, 0, kOfxImageComponentRGBA);
  if (strcmp(context, kOfxImageEffectContextGeneral) == 0) {
    E->clipDefine(effect, "Mask", &c);
    P->propSetString(c, kOfxImageEffectPropSupportedComponents, 0, kOfxImageComponentAlpha);
    P->propSetInt(c, kOfxImageClipPropOptional, 0, 1);
    P->propSetInt(c, kOfxImageClipPropIsMask, 0, 1);
  }
  OfxParamSetHandle ps;
  E->getParamSet(effect, &ps);
  OfxPropertySetHandle p = def(ps, kOfxParamTypeDouble, "gain");
  P->propSetDouble(p, kOfxParamPropDefault, 0, 1.0);
  P->propSetDouble(p, kOfxParamPropMin, 0, 0.0);
  P->propSetDouble(p, kOfxParamPropMax, 0, 10.0);
  P->propSetDouble(p, kOfxParamPropDisplayMax, 0, 4.0);
  P->propSetString(p, kOfxParamPropHint, 0, "multiplies the source");
  p = def(ps, kOfxParamTypeDouble2D, "offset");
  double off[2] = {0.5, -0.25};
  P->propSetDoubleN(p, kOfxParamPropDefault, 2, off);
  P->propSetString(p, kOfxParamPropDoubleType, 0, kOfxParamDoubleTypeXY);
  p = def(ps, kOfxParamTypeRGBA, "tint");
  double tint[4] = {1.0, 0.5, 0.25, 1.0};
  P->propSetDoubleN(p, kOfxParamPropDefault, 4, tint);
  p = def(ps, kOfxParamTypeRGB, "color");
  double color[3] = {0.1, 0.2, 0.3};
  P->propSetDoubleN(p, kOfxParamPropDefault, 3, color);
  p = def(ps, kOfxParamTypeChoice, "mode");
  P->propSetString(p, kOfxParamPropChoiceOption, 0, "first");
  P->propSetString(p, kOfxParamPropChoiceOption, 1, "second");
  P->propSetString(p, kOfxParamPropChoiceOption, 2, "third");
  P->propSetInt(p, kOfxParamPropDefault, 0, 1);
  p = def(ps, kOfxParamTypeBoolean, "flag");
  P->propSetInt(p, kOfxParamPropDefault, 0, 1);
  p = def(ps, kOfxParamTypeInteger, "count");
  P->propSetInt(p, kOfxParamPropDefault, 0, 7);
  P->propSetInt(p, kOfxParamPropMin, 0, -5);
  P->propSetInt(p, kOfxParamPropMax, 0, 100);
  p = def(ps, kOfxParamTypeInteger2D, "count2");
  int c2[2] = {1, 2};
  P->propSetIntN(p, kOfxParamPropDefault, 2, c2);
  p = def(ps, kOfxParamTypeInteger3D, "count3");
  int c3[3] = {3, 4, 5};
  P->propSetIntN(p, kOfxParamPropDefault, 3, c3);
  def(ps, kOfxParamTypeGroup, "grp");
  p = def(ps, kOfxParamTypeDouble3D, "pos3");
  double pos[3] = {0.5, 1.5, 2.5};
  P->propSetDoubleN(p, kOfxParamPropDefault, 3, pos);
  P->propSetString(p, kOfxParamPropParent, 0, "grp");
  p = def(ps, kOfxParamTypeString, "label");
  P->propSetString(p, kOfxParamPropDefault, 0, "hello");
  def(ps, kOfxParamTypePushButton, "press");
  p = def(ps, kOfxParamTypePage, "page");
  P->propSetString(p, kOfxParamPropPageChild, 0, "gain");
  P->propSetString(p, kOfxParamPropPageChild, 1, "mode");
  if (naughty) {
    p = def(ps, kOfxParamTypeInteger, "sin");
    P->propSetInt(p, kOfxParamPropDefault, 0, 0);
  }
  return kOfxStatOK;
}

static OfxParamHandle param(OfxImageEffectHandle effect, const char *name) {
  OfxParamSetHandle ps;
  OfxParamHandle h = NULL;
  E->getParamSet(effect, &ps);
  PS->paramGetHandle(ps, name, &h, NULL);
  return h;
}

static OfxStatus create_instance(OfxImageEffectHandle effect) {
  int bad = 0;
  double d, d2[2], d3[3], d4[4];
  int i, i2[2], i3[3];
  const char *s = NULL;
  PS->paramGetValue(param(effect, "gain"), &d); bad += d != 1.0;
  PS->paramGetValue(param(effect, "offset"), &d2[0], &d2[1]); bad += d2[0] != 0.5 || d2[1] != -0.25;
  PS->paramGetValueAtTime(param(effect, "tint"), 3.0, &d4[0], &d4[1], &d4[2], &d4[3]);
  bad += d4[0] != 1.0 || d4[1] != 0.5 || d4[2] != 0.25 || d4[3] != 1.0;
  PS->paramGetValue(param(effect, "color"), &d3[0], &d3[1], &d3[2]); bad += d3[0] != 0.1 || d3[2] != 0.3;
  PS->paramGetValue(param(effect, "mode"), &i); bad += i != 1;
  PS->paramGetValue(param(effect, "flag"), &i); bad += i != 1;
  PS->paramGetValue(param(effect, "count"), &i); bad += i != 7;
  PS->paramGetValue(param(effect, "count2"), &i2[0], &i2[1]); bad += i2[0] != 1 || i2[1] != 2;
  PS->paramGetValue(param(effect, "count3"), &i3[0], &i3[1], &i3[2]); bad += i3[2] != 5;
  PS->paramGetValue(param(effect, "pos3"), &d3[0], &d3[1], &d3[2]); bad += d3[1] != 1.5;
  PS->paramGetValue(param(effect, "label"), &s); bad += !s || strcmp(s, "hello") != 0;
  PS->paramGetDerivative(param(effect, "gain"), 1.0, &d); bad += d != 0.0;
  PS->paramGetIntegral(param(effect, "gain"), 1.0, 3.0, &d); bad += d != 2.0;
  unsigned int keys = 99;
  PS->paramGetNumKeys(param(effect, "gain"), &keys); bad += keys != 0;
  /* Instance data through the memory suite. */
  void *data = NULL;
  if (M->memoryAlloc(effect, 64, &data) != kOfxStatOK || !data) bad++;
  OfxPropertySetHandle props;
  E->getPropertySet(effect, &props);
  P->propSetPointer(props, kOfxPropInstanceData, 0, data);
  char *ctx = NULL;
  P->propGetString(props, kOfxImageEffectPropContext, 0, &ctx);
  double size[2];
  P->propGetDoubleN(props, kOfxImageEffectPropProjectSize, 2, size);
  say(effect, "created %s in %s project %gx%g", bad ? "BAD" : "ok", ctx, size[0], size[1]);
  return kOfxStatOK;
}

static OfxStatus destroy_instance(OfxImageEffectHandle effect) {
  OfxPropertySetHandle props;
  void *data = NULL;
  E->getPropertySet(effect, &props);
  P->propGetPointer(props, kOfxPropInstanceData, 0, &data);
  return M->memoryFree(data);
}

static OfxStatus instance_changed(OfxImageEffectHandle effect, OfxPropertySetHandle in) {
  char *type = NULL, *name = NULL, *reason = NULL;
  double time = -1, scale[2] = {0, 0};
  P->propGetString(in, kOfxPropType, 0, &type);
  P->propGetString(in, kOfxPropName, 0, &name);
  P->propGetString(in, kOfxPropChangeReason, 0, &reason);
  P->propGetDouble(in, kOfxPropTime, 0, &time);
  P->propGetDoubleN(in, kOfxImageEffectPropRenderScale, 2, scale);
  say(effect, "changed %s %s %s", type, name, reason);
  if (strcmp(name, "mode") == 0 && strcmp(reason, kOfxChangeUserEdited) == 0) {
    int mode = 0;
    PS->paramGetValue(param(effect, "mode"), &mode);
    PS->paramSetValue(param(effect, "count"), 42);
    PS->paramSetValue(param(effect, "label"), "set by plugin");
    if (MSG2) MSG2->setPersistentMessage(effect, kOfxMessageWarning, "mode", "mode is %d", mode);
  }
  if (strcmp(name, "flag") == 0 && MSG2) MSG2->clearPersistentMessage(effect);
  return kOfxStatOK;
}

static OfxStatus regions_of_interest(OfxImageEffectHandle effect, OfxPropertySetHandle in, OfxPropertySetHandle out) {
  (void)effect;
  OfxRectD roi;
  P->propGetDoubleN(in, kOfxImageEffectPropRegionOfInterest, 4, &roi.x1);
  roi.x1 -= 2; roi.y1 -= 2; roi.x2 += 2; roi.y2 += 2;
  P->propSetDoubleN(out, "OfxImageClipPropRoI_Source", 4, &roi.x1);
  return kOfxStatOK;
}

static OfxStatus is_identity(OfxImageEffectHandle effect, OfxPropertySetHandle in, OfxPropertySetHandle out) {
  double time, gain;
  P->propGetDouble(in, kOfxPropTime, 0, &time);
  PS->paramGetValueAtTime(param(effect, "gain"), time, &gain);
  if (gain != 1.0) return kOfxStatReplyDefault;
  P->propSetString(out, kOfxPropName, 0, kOfxImageEffectSimpleSourceClipName);
  return kOfxStatOK;
}

typedef struct Img { void *data; OfxRectI b; int row_bytes; int is_float; } Img;

static OfxStatus fetch(OfxImageEffectHandle effect, const char *clip, double time, OfxPropertySetHandle *h, Img *img) {
  OfxImageClipHandle c;
  E->clipGetHandle(effect, clip, &c, NULL);
  OfxStatus st = E->clipGetImage(c, time, NULL, h);
  if (st != kOfxStatOK) return st;
  char *depth = NULL;
  P->propGetPointer(*h, kOfxImagePropData, 0, &img->data);
  P->propGetIntN(*h, kOfxImagePropBounds, 4, &img->b.x1);
  P->propGetInt(*h, kOfxImagePropRowBytes, 0, &img->row_bytes);
  P->propGetString(*h, kOfxImageEffectPropPixelDepth, 0, &depth);
  img->is_float = strcmp(depth, kOfxBitDepthFloat) == 0;
  return kOfxStatOK;
}

static char *pixel(const Img *img, int x, int y) {
  int size = img->is_float ? 16 : 4;
  return (char *)img->data + (ptrdiff_t)(y - img->b.y1) * img->row_bytes + (ptrdiff_t)(x - img->b.x1) * size;
}

typedef struct Job {
  OfxImageEffectHandle effect;
  Img src, dst;
  OfxRectI window;
  double gain;
  int sin;
  OfxMutexHandle lock;
  int rows, bad_threads;
} Job;

static void noop(unsigned int i, unsigned int n, void *arg) { (void)i; (void)n; (void)arg; }

static void work(unsigned int index, unsigned int count, void *arg) {
  Job *job = arg;
  if (T) {
    unsigned int me = 999;
    T->multiThreadIndex(&me);
    if (me != index || !T->multiThreadIsSpawnedThread()) {
      T->mutexLock(job->lock);
      job->bad_threads++;
      T->mutexUnLock(job->lock);
    }
    if (job->sin == 14 && index == 0) say(job->effect, "sin 14 status %d", T->multiThread(noop, 2, NULL));
  }
  int h = job->window.y2 - job->window.y1;
  int y1 = job->window.y1 + (int)(index * h / count), y2 = job->window.y1 + (int)((index + 1) * h / count);
  for (int y = y1; y < y2 && !E->abort(job->effect); ++y) {
    for (int x = job->window.x1; x < job->window.x2; ++x) {
      char *s = pixel(&job->src, x, y), *d = pixel(&job->dst, x, y);
      for (int c = 0; c < 4; ++c) {
        if (job->dst.is_float) {
          ((float *)d)[c] = (float)(((float *)s)[c] * job->gain);
        } else {
          double v = ((unsigned char *)s)[c] * job->gain;
          ((unsigned char *)d)[c] = (unsigned char)(v > 255 ? 255 : v + 0.5);
        }
      }
    }
    if (T) T->mutexLock(job->lock);
    job->rows++;
    if (T) T->mutexUnLock(job->lock);
  }
}

static OfxStatus render(OfxImageEffectHandle effect, OfxPropertySetHandle in, int naughty) {
  Job job;
  memset(&job, 0, sizeof job);
  job.effect = effect;
  double time = 0, now = -1;
  P->propGetDouble(in, kOfxPropTime, 0, &time);
  P->propGetIntN(in, kOfxImageEffectPropRenderWindow, 4, &job.window.x1);
  PS->paramGetValueAtTime(param(effect, "gain"), time, &job.gain);
  if (naughty) PS->paramGetValue(param(effect, "sin"), &job.sin);
  if (PROG) PROG->progressStart(effect, "probe");
  if (TL) TL->getTime(effect, &now);
  OfxPropertySetHandle src = NULL, dst = NULL;
  if (fetch(effect, kOfxImageEffectOutputClipName, time, &dst, &job.dst) != kOfxStatOK) return kOfxStatFailed;
  if (fetch(effect, kOfxImageEffectSimpleSourceClipName, time, &src, &job.src) != kOfxStatOK) {
    E->clipReleaseImage(dst);
    return kOfxStatFailed;
  }
  OfxImageClipHandle out;
  OfxRectD rod;
  E->clipGetHandle(effect, kOfxImageEffectOutputClipName, &out, NULL);
  E->clipGetRegionOfDefinition(out, time, &rod);
  OfxRectI sb = job.src.b;
  say(effect, "render %d %d %d %d src %d %d %d %d rod %g %g %g %g", job.window.x1, job.window.y1, job.window.x2,
      job.window.y2, sb.x1, sb.y1, sb.x2, sb.y2, rod.x1, rod.y1, rod.x2, rod.y2);
  OfxPropertySetHandle props;
  E->getPropertySet(effect, &props);
  int sin = job.sin, st = -1, iv = 0;
  double dv = 0;
  switch (sin) {
    case 1: st = P->propGetInt(props, "OfxBogusProperty", 0, &iv); break;
    case 2: st = P->propGetDouble(dst, kOfxImagePropRowBytes, 0, &dv); break;
    case 3: st = P->propGetInt(in, kOfxImageEffectPropRenderWindow, 4, &iv); break;
    case 6: st = PS->paramSetValue(param(effect, "gain"), 2.0); break;
    case 7: st = P->propSetString(props, kOfxPropType, 0, "x"); break;
    case 8: { OfxImageClipHandle c; st = E->clipGetHandle(effect, "Nope", &c, NULL); } break;
    case 10: {
      OfxImageClipHandle c;
      OfxPropertySetHandle other = NULL;
      E->clipGetHandle(effect, kOfxImageEffectSimpleSourceClipName, &c, NULL);
      st = E->clipGetImage(c, time + 1, NULL, &other);
      if (other) E->clipReleaseImage(other);
    } break;
    case 11: st = P->propSetInt(props, kOfxImageEffectPropSupportsTiles, 0, 7); break;
    case 12: st = P->propGetInt((OfxPropertySetHandle)0x1234, kOfxPropTime, 0, &iv); break;
    case 15: { OfxMutexHandle m; T->mutexCreate(&m, 0); st = T->mutexUnLock(m); T->mutexDestroy(m); } break;
    case 16: if (PROG) PROG->progressEnd(effect); st = PROG->progressUpdate(effect, 0.5); if (PROG) PROG->progressStart(effect, "again"); break;
    case 17: st = M->memoryFree((void *)0x999); break;
    case 18: st = MSG1->message(effect, "OfxMessageBogus", NULL, "%s", "x"); break;
    case 20: st = PS->paramGetValue(param(effect, "grp"), &dv); break;
  }
  if (st != -1) say(effect, "sin %d status %d", sin, st);
  if (sin == 9) {
    /* leaves the output unwritten */
  } else if (T) {
    unsigned int cpus = 1;
    T->multiThreadNumCPUs(&cpus);
    T->mutexCreate(&job.lock, 0);
    T->multiThread(work, cpus, &job);
    T->mutexDestroy(job.lock);
  } else {
    work(0, 1, &job);
  }
  if (sin == 4) ((float *)pixel(&job.dst, job.window.x1 - 1, job.window.y1))[0] = 1.0f;
  if (sin == 19) ((float *)pixel(&job.src, job.src.b.x1, job.src.b.y1))[0] = 9.0f;
  if (job.bad_threads || (sin != 9 && job.rows != job.window.y2 - job.window.y1)) say(effect, "BAD threads %d rows %d", job.bad_threads, job.rows);
  if (PROG) { PROG->progressUpdate(effect, 1.0); PROG->progressEnd(effect); }
  E->clipReleaseImage(dst);
  if (sin != 5) E->clipReleaseImage(src);
  if (sin == 13) say(effect, "sin 13 status %d", E->clipReleaseImage(src));
  return kOfxStatOK;
}

static OfxStatus main_entry(const char *action, const void *handle, OfxPropertySetHandle in, OfxPropertySetHandle out, int naughty) {
  OfxImageEffectHandle effect = (OfxImageEffectHandle)handle;
  if (strcmp(action, kOfxActionLoad) == 0) return on_load();
  if (strcmp(action, kOfxActionDescribe) == 0) return describe(effect, naughty);
  if (strcmp(action, kOfxImageEffectActionDescribeInContext) == 0) return describe_in_context(effect, in, naughty);
  if (strcmp(action, kOfxActionCreateInstance) == 0) return create_instance(effect);
  if (strcmp(action, kOfxActionDestroyInstance) == 0) return destroy_instance(effect);
  if (strcmp(action, kOfxActionInstanceChanged) == 0) return instance_changed(effect, in);
  if (strcmp(action, kOfxImageEffectActionGetRegionsOfInterest) == 0) return regions_of_interest(effect, in, out);
  if (strcmp(action, kOfxImageEffectActionIsIdentity) == 0 && !naughty) return is_identity(effect, in, out);
  if (strcmp(action, kOfxImageEffectActionRender) == 0) return render(effect, in, naughty);
  return kOfxStatReplyDefault;
}

static OfxStatus good_main(const char *a, const void *h, OfxPropertySetHandle i, OfxPropertySetHandle o) { return main_entry(a, h, i, o, 0); }
static OfxStatus naughty_main(const char *a, const void *h, OfxPropertySetHandle i, OfxPropertySetHandle o) { return main_entry(a, h, i, o, 1); }
static void set_host(OfxHost *h) { gHost = h; }

static OfxPlugin plugins[2] = {
  {kOfxImageEffectPluginApi, 1, "org.collapse.probe.good", 1, 0, set_host, good_main},
  {kOfxImageEffectPluginApi, 1, "org.collapse.probe.naughty", 1, 0, set_host, naughty_main},
};

EXPORT int OfxGetNumberOfPlugins(void) { return 2; }
EXPORT OfxPlugin *OfxGetPlugin(int nth) { return nth >= 0 && nth < 2 ? &plugins[nth] : NULL; }
"#####;

fn bundle() -> Bundle {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("host-probe-src");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("probe.c");
    if std::fs::read_to_string(&source).ok().as_deref() != Some(PROBE_C) {
        std::fs::write(&source, PROBE_C).unwrap();
    }
    let path = build_bundle(&PluginBuild {
        name: "probe",
        sources: vec![source],
        includes: vec![our_headers()],
        defines: vec![],
        flags: vec![],
        cxx: false,
    });
    Bundle::open(&path).expect("open the probe bundle")
}

fn load(id: &str, config: HostConfig) -> Plugin {
    bundle()
        .load_plugin(id, config)
        .unwrap_or_else(|e| panic!("load {id}: {e}"))
}

fn texts(instance: &Instance) -> Vec<String> {
    instance.messages().into_iter().map(|m| m.text).collect()
}

fn assert_clean(instance: &Instance) {
    assert!(
        instance.violations().is_empty(),
        "{:#?}",
        instance.violations()
    );
    let bad: Vec<String> = texts(instance)
        .into_iter()
        .filter(|t| t.contains("BAD"))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn probe_describes_every_parameter_kind() {
    let plugin = load(GOOD, HostConfig::default());
    let said: Vec<String> = plugin.messages().into_iter().map(|m| m.text).collect();
    assert!(
        said.contains(&"host org.collapse.testhost tiles 1 depths 4".to_string()),
        "{said:?}"
    );
    assert!(
        said.contains(&"suites mt=1 msg2=1 progress=1 timeline=1".to_string()),
        "{said:?}"
    );
    let desc = plugin.describe_in_context(Context::General).unwrap();
    let kinds: Vec<(&str, ParamKind)> = desc
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("gain", ParamKind::Double),
            ("offset", ParamKind::Double2D),
            ("tint", ParamKind::Rgba),
            ("color", ParamKind::Rgb),
            ("mode", ParamKind::Choice),
            ("flag", ParamKind::Boolean),
            ("count", ParamKind::Integer),
            ("count2", ParamKind::Integer2D),
            ("count3", ParamKind::Integer3D),
            ("grp", ParamKind::Group),
            ("pos3", ParamKind::Double3D),
            ("label", ParamKind::String),
            ("press", ParamKind::PushButton),
            ("page", ParamKind::Page),
        ]
    );
    let p = |n: &str| desc.param(n).unwrap();
    assert_eq!(
        p("offset").default_value(),
        Some(ParamValue::Double2D(0.5, -0.25))
    );
    assert_eq!(
        p("tint").default_value(),
        Some(ParamValue::Rgba(1.0, 0.5, 0.25, 1.0))
    );
    assert_eq!(p("mode").options(), ["first", "second", "third"]);
    assert_eq!(p("mode").default_value(), Some(ParamValue::Choice(1)));
    assert_eq!(p("count").min(), [-5.0]);
    assert_eq!(
        p("label").default_value(),
        Some(ParamValue::String("hello".into()))
    );
    assert_eq!(p("pos3").parent(), "grp");
    assert_eq!(p("gain").hint(), "multiplies the source");
    assert_eq!(p("page").page_children(), ["gain", "mode"]);
    assert_eq!(p("press").default_value(), None);
    assert!(desc.clip("Mask").unwrap().is_mask());
    assert!(plugin.violations().is_empty(), "{:#?}", plugin.violations());
}

#[test]
fn probe_reads_and_writes_every_value_type() {
    let plugin = load(GOOD, HostConfig::default());
    let instance = plugin.create_instance(Context::General).unwrap();
    assert!(
        texts(&instance)
            .contains(&"created ok in OfxImageEffectContextGeneral project 1920x1080".to_string()),
        "{:?}",
        texts(&instance)
    );
    assert_eq!(instance.param("count3"), Some(ParamValue::Int3D(3, 4, 5)));
    assert_eq!(instance.param("press"), None);

    instance.set_param("flag", ParamValue::Bool(false)).unwrap();
    assert!(
        texts(&instance).contains(&"changed OfxTypeParameter flag OfxChangeUserEdited".to_string())
    );
    // Choosing a mode makes the plugin set two parameters itself (each one
    // reported back as a plugin edit) and a persistent message.
    instance.set_param("mode", ParamValue::Choice(2)).unwrap();
    assert_eq!(instance.param("count"), Some(ParamValue::Int(42)));
    assert_eq!(
        instance.param("label"),
        Some(ParamValue::String("set by plugin".into()))
    );
    let said = texts(&instance);
    assert!(
        said.contains(&"changed OfxTypeParameter count OfxChangePluginEdited".to_string()),
        "{said:?}"
    );
    assert!(
        said.contains(&"changed OfxTypeParameter label OfxChangePluginEdited".to_string()),
        "{said:?}"
    );
    let persistent = instance.persistent_message().expect("a persistent message");
    assert_eq!(
        (persistent.level, persistent.text.as_str()),
        (MessageLevel::Warning, "mode is 2")
    );
    instance.set_param("flag", ParamValue::Bool(true)).unwrap();
    assert!(instance.persistent_message().is_none());

    assert!(
        instance
            .set_param("count", ParamValue::Double(1.0))
            .is_err(),
        "wrong value type"
    );
    assert!(instance.set_param("nope", ParamValue::Int(1)).is_err());
    drop(instance);
    assert_clean_plugin(&plugin);
}

fn assert_clean_plugin(plugin: &Plugin) {
    assert!(plugin.violations().is_empty(), "{:#?}", plugin.violations());
}

fn source(depth: BitDepth) -> ClipSource {
    ClipSource::still(pattern_image(depth, Components::Rgba, rect(0, 0, 64, 40)))
}

#[test]
fn probe_renders_with_threads_progress_and_regions_of_interest() {
    let plugin = load(GOOD, HostConfig::default());
    let instance = plugin.create_instance(Context::Filter).unwrap();
    let image = pattern_image(BitDepth::Float, Components::Rgba, rect(0, 0, 64, 40));
    instance
        .connect("Source", ClipSource::still(image.clone()))
        .unwrap();
    instance.set_param("gain", ParamValue::Double(2.0)).unwrap();

    let window = collapse_ofx::host::OfxRectD {
        x1: 10.0,
        y1: 10.0,
        x2: 20.0,
        y2: 20.0,
    };
    let rois = instance
        .regions_of_interest(1.0, (1.0, 1.0), window)
        .unwrap();
    let roi = rois["Source"];
    assert_eq!((roi.x1, roi.y1, roi.x2, roi.y2), (8.0, 8.0, 22.0, 22.0));

    let out = instance
        .render_tiled(1.0, (1.0, 1.0), Some((16, 16)), 3)
        .unwrap();
    for (x, y) in [(0, 0), (63, 39), (17, 21)] {
        let (s, o) = (image.get(x, y), out.get(x, y));
        assert_eq!(o[0], s[0] * 2.0);
    }
    // Each tile's source is its region of interest (tile + 2 pixels) clipped
    // to the source.
    assert!(
        texts(&instance).contains(&"render 16 16 32 32 src 14 14 34 34 rod 0 0 64 40".to_string()),
        "{:?}",
        texts(&instance)
    );
    assert!(
        texts(&instance).contains(&"render 48 32 64 40 src 46 30 64 40 rod 0 0 64 40".to_string())
    );
    let progress = instance.progress();
    assert_eq!(progress.len(), 3 * 12);
    assert!(matches!(progress[0], ProgressEvent::Start { .. }));
    assert_clean(&instance);

    // Gain 1: identity, the host copies the source.
    instance.set_param("gain", ParamValue::Double(1.0)).unwrap();
    assert!(instance
        .render_frame(1.0, (1.0, 1.0))
        .unwrap()
        .same_pixels(&image));
}

#[test]
fn probe_renders_bytes_with_top_down_rows_padding_and_full_inputs() {
    let config = HostConfig {
        row_order: RowOrder::TopDown,
        row_padding: 7,
        input_region: InputRegion::Full,
        output_margin: 3,
        ..HostConfig::default()
    };
    let plugin = load(GOOD, config);
    let instance = plugin.create_instance(Context::Filter).unwrap();
    instance.connect("Source", source(BitDepth::Byte)).unwrap();
    instance.set_param("gain", ParamValue::Double(0.5)).unwrap();
    let whole = instance.render_frame(2.0, (1.0, 1.0)).unwrap();
    assert_eq!(whole.depth(), BitDepth::Byte);
    let tiled = instance
        .render_tiled(2.0, (1.0, 1.0), Some((9, 13)), 2)
        .unwrap();
    assert!(whole.same_pixels(&tiled));
    assert!(
        texts(&instance)
            .iter()
            .any(|t| t.starts_with("render 9 13 18 26 src 0 0 64 40")),
        "{:?}",
        texts(&instance)
    );
    let half = instance.render_frame(2.0, (0.5, 0.5)).unwrap();
    assert_eq!((half.width(), half.height()), (32, 20));
    assert_clean(&instance);
}

#[test]
fn a_host_without_optional_suites() {
    let config = HostConfig {
        name: "org.collapse.minimal".into(),
        offer_message_v2: false,
        offer_progress: false,
        offer_multithread: false,
        offer_timeline: false,
        ..HostConfig::default()
    };
    let plugin = load(GOOD, config);
    let said: Vec<String> = plugin.messages().into_iter().map(|m| m.text).collect();
    assert!(
        said.contains(&"suites mt=0 msg2=0 progress=0 timeline=0".to_string()),
        "{said:?}"
    );
    let instance = plugin.create_instance(Context::Filter).unwrap();
    instance.connect("Source", source(BitDepth::Float)).unwrap();
    instance.set_param("gain", ParamValue::Double(3.0)).unwrap();
    instance.set_param("mode", ParamValue::Choice(0)).unwrap();
    assert!(instance.persistent_message().is_none());
    let out = instance.render_frame(1.0, (1.0, 1.0)).unwrap();
    assert_eq!(out.get(5, 5)[1], host_util::pattern(5, 5)[1] * 3.0);
    assert!(instance.progress().is_empty());
    assert_clean(&instance);
}

/// (sin, expected status, a piece of the expected violation).
const SINS: &[(i32, Option<i32>, &str)] = &[
    (1, Some(3), "unknown property"),
    (2, Some(3), "property is int, not double"),
    (3, Some(10), "index 4 out of range"),
    (4, None, "outside the render window"),
    (5, None, "never released"),
    (6, Some(5), "where parameters are read-only"),
    (7, Some(11), "read-only for the plugin"),
    (8, Some(3), "no such clip"),
    (9, None, "unwritten"),
    (10, Some(0), "without temporal clip access"),
    (11, Some(11), "not a boolean"),
    (12, Some(9), "not a live property set handle"),
    (13, Some(9), "not a live image handle"),
    (14, Some(6), "recursively"),
    (15, Some(1), "does not hold the mutex"),
    (16, Some(0), "progressUpdate without progressStart"),
    (17, Some(9), "not a block from memoryAlloc"),
    (18, Some(3), "unknown message type"),
    (19, None, "wrote into the input image"),
    (20, Some(9), "has no value"),
];

#[test]
fn every_sin_of_the_naughty_probe_is_recorded_with_the_right_status() {
    let plugin = load(NAUGHTY, HostConfig::default());
    assert_clean_plugin(&plugin);
    for &(sin, status, violation) in SINS {
        let instance = plugin.create_instance(Context::Filter).unwrap();
        instance.connect("Source", source(BitDepth::Float)).unwrap();
        instance.set_param("sin", ParamValue::Int(sin)).unwrap();
        assert!(
            instance.violations().is_empty(),
            "sin {sin} before rendering: {:#?}",
            instance.violations()
        );
        let result = instance.render_frame(1.0, (1.0, 1.0));
        assert!(result.is_ok(), "sin {sin}: {result:?}");
        let violations = instance.violations();
        assert!(
            violations.iter().any(|v| v.contains(violation)),
            "sin {sin}: expected \"{violation}\" in {violations:#?}"
        );
        if let Some(status) = status {
            let said = texts(&instance);
            assert!(
                said.contains(&format!("sin {sin} status {status}")),
                "sin {sin}: {said:#?}"
            );
        }
    }
}

#[test]
fn abort_stops_a_render() {
    let plugin = load(GOOD, HostConfig::default());
    let instance = plugin.create_instance(Context::Filter).unwrap();
    instance.connect("Source", source(BitDepth::Float)).unwrap();
    instance.set_param("gain", ParamValue::Double(2.0)).unwrap();
    instance.set_abort(true);
    // The probe stops at once and its output is left unwritten: not an error
    // of the plugin when the host asked it to abort.
    let _ = instance.render_frame(1.0, (1.0, 1.0));
    let said = texts(&instance);
    assert!(
        said.iter().any(|t| t.starts_with("BAD threads 0 rows 0")),
        "{said:?}"
    );
    assert!(
        instance.violations().is_empty(),
        "{:#?}",
        instance.violations()
    );
    instance.set_abort(false);
    assert!(instance.render_frame(1.0, (1.0, 1.0)).is_ok());
}
