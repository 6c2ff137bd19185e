/* run: `mitsu run`, the one place where the parts of mitsu are put together (the sensor's
 * listeners and sessions, the store, the event bus and its sinks, capture, the sandbox queue,
 * the dashboard). Nothing below depends on it: tests and fuzz targets build a sensor with only
 * the parts they need (tests/unit/sensor/inproc.h). */
#ifndef MITSU_RUN_H
#define MITSU_RUN_H

#include "core/core.h"

extern const struct core_command run_command;

#endif
