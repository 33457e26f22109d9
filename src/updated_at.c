/*
 * updated_at.c - touch_updated_at(): the BEFORE UPDATE trigger that keeps a
 * row's updated_at current.
 *
 * The time written is the transaction's: now(), or, inside a Citus
 * distributed transaction, the stamp the coordinator gave that transaction.
 * Citus runs a trigger of a reference table on every node that holds a
 * copy, each in its own transaction; now() would differ from copy to copy,
 * and the same row would read differently on different nodes.  The
 * distributed transaction's stamp is the same on all of them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "citus.h"
#include "compat.h"

SK_SQL_FUNCTION(schemakit_touch_updated_at);

Datum
schemakit_touch_updated_at(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			attnum;
	TimestampTz stamp;
	Datum		value;
	Oid			type = InvalidOid;
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("touch_updated_at() must be a BEFORE UPDATE ... FOR EACH ROW trigger")));

	desc = RelationGetDescr(td->tg_relation);
	attnum = SPI_fnumber(desc, "updated_at");
	if (attnum > 0)
		type = TupleDescAttr(desc, attnum - 1)->atttypid;
	if (attnum <= 0 || (type != TIMESTAMPTZOID && type != TIMESTAMPOID))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no column \"updated_at\" of type timestamptz or timestamp",
						RelationGetRelationName(td->tg_relation))));

	if (!citus_transaction_stamp(&stamp))
		stamp = GetCurrentTransactionStartTimestamp();
	value = TimestampTzGetDatum(stamp);
	/* A timestamp column gets the local time, as an assignment of now() would. */
	if (type == TIMESTAMPOID)
		value = DirectFunctionCall1(timestamptz_timestamp, value);
	PG_RETURN_POINTER(heap_modify_tuple_by_cols(td->tg_newtuple, desc, 1, &attnum,
												&value, &isnull));
}
