using System.Data.Common;

namespace PowerService.Runtime.Storage;

/// <summary>What every storage provider does alike with rows: checks a batch before writing it, and turns result rows
/// into records. Npgsql and Microsoft.Data.Sqlite both derive from <see cref="DbCommand"/> and <see cref="DbDataReader"/>,
/// so this is written once, and a record cannot come to be read one way from one store and another way from the other.
/// The SQL stays with each provider; the column order named on each reader is the contract between that SQL and this code.
/// Timestamps are the one column the stores keep differently (SQLite: unix microseconds, PostgreSQL: timestamptz), so
/// the readers that meet one take the provider's way of reading it.</summary>
public static class StoredRows
{
    /// <summary>The <see cref="IStorageProvider.WriteStatesAsync"/> argument checks, so both stores refuse the same batches.</summary>
    public static void ThrowIfInvalid(IReadOnlyList<StateWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        foreach (var write in writes)
        {
            if (write.ExpectedVersion < 0)
            {
                throw new ArgumentException("An expected version is never negative (0 means no row may exist).", nameof(writes));
            }
            if (write.Reminders is { } reminders && reminders.Any(r => r.Key.Grain != write.Grain || (r.Record is { } record && record.Key != r.Key)))
            {
                throw new ArgumentException($"A state write changes only reminders of its own grain ({write.Grain}).", nameof(writes));
            }
        }
    }

    /// <summary>The reminder changes of the writes that applied, the last per reminder winning (batch order), as the
    /// reminders to set and the keys to remove; both empty when no write changes a reminder.</summary>
    public static (IReadOnlyList<ReminderRecord> Set, IReadOnlyList<ReminderKey> Removed) RemindersOfAppliedWrites(
        IReadOnlyList<StateWrite> writes, StateWriteOutcome[] outcomes)
    {
        Dictionary<ReminderKey, ReminderRecord?>? latest = null;
        for (var i = 0; i < writes.Count; i++)
        {
            if (writes[i].Reminders is { Count: > 0 } changes && outcomes[i].Applied)
            {
                latest ??= [];
                foreach (var change in changes)
                {
                    latest[change.Key] = change.Record;
                }
            }
        }
        if (latest is null)
        {
            return ([], []);
        }
        var set = new List<ReminderRecord>();
        var removed = new List<ReminderKey>();
        foreach (var (key, record) in latest)
        {
            if (record is null)
            {
                removed.Add(key);
            }
            else
            {
                set.Add(record);
            }
        }
        return (set, removed);
    }

    /// <summary>The journal events of the writes that applied, in batch order.</summary>
    public static IReadOnlyList<JournalEvent> EventsOfAppliedWrites(IReadOnlyList<StateWrite> writes, StateWriteOutcome[] outcomes)
    {
        List<JournalEvent>? events = null;
        for (var i = 0; i < writes.Count; i++)
        {
            if (writes[i].Events is { Count: > 0 } written && outcomes[i].Applied)
            {
                (events ??= []).AddRange(written);
            }
        }
        return events ?? (IReadOnlyList<JournalEvent>)[];
    }

    /// <summary>Columns: version, payload. Null when no row comes back.</summary>
    public static async Task<StoredState?> ReadStateAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StoredState(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : null;
    }

    /// <summary>Columns: grain_type, grain_key, name, due_at_ms, period_ms, partition.</summary>
    public static Task<IReadOnlyList<ReminderRecord>> ReadRemindersAsync(DbCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, static reader => new ReminderRecord(
            new GrainId(reader.GetString(0), reader.GetString(1)), reader.GetString(2),
            reader.GetInt64(3), reader.GetInt64(4), reader.GetInt32(5)), cancellationToken);

    /// <summary>Columns: sequence, payload, appended_at.</summary>
    public static Task<IReadOnlyList<LogRecord>> ReadLogRecordsAsync(
        DbCommand command, Func<DbDataReader, int, DateTimeOffset> readTimestamp, CancellationToken cancellationToken) =>
        ReadAllAsync(command, reader => new LogRecord(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), readTimestamp(reader, 2)), cancellationToken);

    /// <summary>A log's name: what both stores take, so a name that works on one works on the other.</summary>
    public static void ThrowIfInvalidLog(string log)
    {
        if (string.IsNullOrWhiteSpace(log) || log.Length > 64)
        {
            throw new ArgumentException("A log is named (1 to 64 characters).", nameof(log));
        }
    }

    /// <summary>Columns: sequence, stream_id, event_type, occurred_at, actor, location, payload; actor and location may be null.</summary>
    public static Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(
        DbCommand command, Func<DbDataReader, int, DateTimeOffset> readTimestamp, CancellationToken cancellationToken) =>
        ReadAllAsync(command, reader => new StoredEvent(
            reader.GetInt64(0), reader.GetString(1), reader.GetString(2), readTimestamp(reader, 3),
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6)),
            cancellationToken);

    /// <summary>Columns from <paramref name="first"/>: key, parent_key (may be null), payload.</summary>
    public static CatalogEntry CatalogEntry(DbDataReader reader, int first) =>
        new(reader.GetString(first), reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1), reader.GetString(first + 2));

    /// <summary>Columns: key, parent_key, payload.</summary>
    public static Task<IReadOnlyList<CatalogEntry>> ReadCatalogEntriesAsync(DbCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, static reader => CatalogEntry(reader, 0), cancellationToken);

    /// <summary>Columns: key, parent_key.</summary>
    public static Task<IReadOnlyList<CatalogLink>> ReadCatalogLinksAsync(DbCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, static reader => new CatalogLink(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)), cancellationToken);

    /// <summary>Columns: parent_key, value (may be null), count, least key.</summary>
    public static Task<IReadOnlyList<CatalogChildGroup>> ReadCatalogChildGroupsAsync(DbCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, static reader => new CatalogChildGroup(
            reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), checked((int)reader.GetInt64(2)), reader.GetString(3)), cancellationToken);

    /// <summary>A payload field a store may name in a query: a JSON property name of ASCII letters, digits and
    /// underscores, so that it can never reach outside the value it names.</summary>
    public static void ThrowIfNotFieldName(string field)
    {
        ArgumentException.ThrowIfNullOrEmpty(field);
        foreach (var c in field)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                throw new ArgumentException($"'{field}' is not a payload field name (letters, digits and underscores).", nameof(field));
            }
        }
    }

    /// <summary>Columns: id, dedup_key, channel, recipient, payload, created_at, attempts (the claim's RETURNING list).
    /// Sorted by id, oldest first as the contract promises, because RETURNING gives no order guarantee.</summary>
    public static async Task<IReadOnlyList<StoredOutboxMessage>> ReadClaimedMessagesAsync(
        DbCommand command, Func<DbDataReader, int, DateTimeOffset> readTimestamp, CancellationToken cancellationToken)
    {
        var claimed = new List<StoredOutboxMessage>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(ClaimedMessage(reader, readTimestamp));
            }
        }
        return InIdOrder(claimed);
    }

    /// <summary><see cref="ReadClaimedMessagesAsync"/> for a provider that claims inside a synchronous write
    /// transaction (SQLite's single writer connection).</summary>
    public static IReadOnlyList<StoredOutboxMessage> ReadClaimedMessages(DbCommand command, Func<DbDataReader, int, DateTimeOffset> readTimestamp)
    {
        var claimed = new List<StoredOutboxMessage>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                claimed.Add(ClaimedMessage(reader, readTimestamp));
            }
        }
        return InIdOrder(claimed);
    }

    private static StoredOutboxMessage ClaimedMessage(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset> readTimestamp) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            readTimestamp(reader, 5), reader.GetInt32(6));

    private static List<StoredOutboxMessage> InIdOrder(List<StoredOutboxMessage> claimed)
    {
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    private static async Task<IReadOnlyList<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }
        return rows;
    }
}
