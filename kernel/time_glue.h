/*
 * What kernel/time.c needs from the event-channel code, in one place:
 * where v's vcpu_time_info lives, d's shared_info, and sending
 * VIRQ_TIMER. Until the event-channel code provides them, no domain has a
 * shared_info or vcpu_info: the time fields are not written and a timer
 * only wakes its vCPU.
 */
#ifndef KERNEL_TIME_GLUE_H
#define KERNEL_TIME_GLUE_H

#include <keel/domain.h>
#include <public/xen.h>

static inline struct vcpu_time_info *time_glue_vcpu_time(struct vcpu *v)
{
	(void)v;
	return NULL;
}

static inline struct shared_info *time_glue_shared_info(struct domain *d)
{
	(void)d;
	return NULL;
}

static inline void time_glue_send_timer_virq(struct vcpu *v)
{
	(void)v;
}

#endif
