/*
 * code_guard.h - failed code guesses counted in shared memory (code_guard.c):
 * what _PG_init and its shared-memory hooks call.
 */
#ifndef SK_CODE_GUARD_H
#define SK_CODE_GUARD_H

extern void code_guard_request(void);
extern void code_guard_startup(void);

#endif							/* SK_CODE_GUARD_H */
