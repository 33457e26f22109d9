/*
 * citus.h - what schemakit needs to know about Citus, without linking to it.
 */
#ifndef SK_CITUS_H
#define SK_CITUS_H

#include "datatype/timestamp.h"

/* Citus is in shared_preload_libraries (fixed while the server runs). */
extern bool citus_loaded(void);

/* relid is a shard of a table Citus manages (Citus's own test, by name). */
extern bool citus_is_shard(Oid relid);

/*
 * Citus manages relid: it is listed in pg_dist_partition, as a distributed,
 * reference or citus local table.  *reference is set when it is a reference
 * table (the same rows on every node).
 */
extern bool citus_manages(Oid relid, bool *reference);

/*
 * Inside a Citus distributed transaction: the stamp its coordinator gave it,
 * the same on every node the transaction reaches.  False outside one.
 */
extern bool citus_transaction_stamp(TimestampTz *stamp);

#endif							/* SK_CITUS_H */
