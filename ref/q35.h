/* q35.h - the public API of libq35: include this one header.
 *
 *   q35_model_open    a checkpoint directory (config + mmapped safetensors), shapes checked
 *   q35_text_state    caches; q35_text_forward runs prefill or decode through an op table
 *   q35_ops_ref       the FP32 scalar reference ops
 *   q35_trace         hook receiving every intermediate under its golden name
 *   q35_verify        run a golden set and compare every tensor
 *   q35_compare_files two dumps (safetensors or .npy directories, alias maps), one report */
#ifndef Q35_H
#define Q35_H

#define Q35_VERSION "0.3.0"

#include "chat.h"
#include "config.h"
#include "image.h"
#include "mkmodel.h"
#include "ops.h"
#include "rope.h"
#include "safetensors.h"
#include "tensor.h"
#include "text.h"
#include "tokenizer.h"
#include "trace.h"
#include "vision.h"
#include "weights.h"
#include "compare.h"
#include "dumps.h"
#include "report.h"
#include "sha256.h"
#include "verify.h"
#include "video.h"

#endif
