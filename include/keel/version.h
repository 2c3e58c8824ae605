#ifndef KEEL_VERSION_H
#define KEEL_VERSION_H
#define KEEL_VERSION "0.1"
#endif
