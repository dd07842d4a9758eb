using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using SQLitePCL;

namespace PowerService.Storage.Sqlite;

/// <summary>The embedded store: one SQLite file in WAL mode. Every write goes through one connection, one batch
/// at a time, in one transaction per batch with prepared commands; reads use their own pooled connections.</summary>
public sealed class SqliteStorageProvider : IStorageProvider
{
    private readonly string _connectionString;
    private readonly string _databaseFile;
    private readonly TimeSpan _busyTimeout;
    private readonly int _writerCacheMegabytes;
    private readonly SqliteSynchronous _synchronous;
    private readonly TimeProvider _clock;
    private readonly SqliteWriteQueue _writes;
    private readonly SqliteCheckpointer _checkpointer;
    private SqliteWriter? _writer;
    private FileStream? _owner;

    public SqliteStorageProvider(SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            throw new ArgumentException("The SQLite connection string must name a database file (Data Source=...).", nameof(options));
        }
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is ":memory:" or "file::memory:"
            || builder.DataSource.Contains("mode=memory", StringComparison.OrdinalIgnoreCase))
        {
            // Reads use their own connections, and each connection would see its own in-memory database.
            throw new ArgumentException("The SQLite storage provider needs a database file, not an in-memory database.", nameof(options));
        }
        // Microsoft.Data.Sqlite retries a busy statement until the command timeout, which counts whole seconds.
        builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds));
        _connectionString = builder.ToString();
        _databaseFile = DatabaseFile(builder.DataSource);
        _busyTimeout = options.BusyTimeout;
        _writerCacheMegabytes = options.WriterCacheMegabytes is > 0 ? options.WriterCacheMegabytes
            : throw new ArgumentException("WriterCacheMegabytes must be positive.", nameof(options));
        _clock = options.TimeProvider;
        _synchronous = Enum.IsDefined(options.Synchronous) ? options.Synchronous
            : throw new ArgumentException("Synchronous must be Normal or Full.", nameof(options));
        if (options.CheckpointInterval <= TimeSpan.Zero || options.WalPagesLimit <= 0)
        {
            throw new ArgumentException("CheckpointInterval and WalPagesLimit must be positive.", nameof(options));
        }
        _writes = new SqliteWriteQueue(Path.GetFileName(_databaseFile));
        _checkpointer = new SqliteCheckpointer(_connectionString, _databaseFile, _busyTimeout, options.CheckpointInterval, options.WalPagesLimit,
            pause => _writes.Enqueue(WriteUrgency.Awaited, () => { pause(); return true; }, CancellationToken.None));
    }

    public string Name => "sqlite";

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            TakeOwnership();
            await Migrate(cancellationToken);
        }
        catch (Exception error) when (error is SqliteException or UnauthorizedAccessException or IOException)
        {
            // A folder, a file that is not a database, a read-only volume: the silo stops with one line naming the file,
            // not a stack trace.
            throw new StorageUnavailableException(
                $"SQLite database '{_databaseFile}' cannot be opened for writing: {error.Message} Check the connection string (Storage:ConnectionString) and that its folder is writable.", error);
        }
    }

    /// <summary>One silo owns an embedded store. A second silo on the same file would run beside the first: each
    /// writes its grains' state over the other's from its own copies (a write it loses is never reloaded), and each
    /// moves the recovery checkpoint past changes the other could not store, so a crash then loses acknowledged
    /// orders. The owner file is held open without sharing: an advisory lock the system drops when the process ends,
    /// so a crashed silo leaves nothing to clean up. Several silos share a PostgreSQL store instead.</summary>
    private void TakeOwnership()
    {
        if (_owner is not null)
        {
            return;
        }
        CreateFolder();
        // Named as SQLite names the file (and so its -wal and -shm): however the connection string spells the path (a
        // file: URI, a relative path, a linked folder), two silos on one database lock the same owner file.
        var owner = SqliteFileName() + ".owner";
        try
        {
            _owner = new FileStream(owner, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException error) when (HeldByAnother(error))
        {
            throw new StorageUnavailableException(
                $"SQLite database '{_databaseFile}' is in use by another silo (it holds '{owner}'): an embedded store has one silo; run several silos on PostgreSQL.", error);
        }
    }

    /// <summary>The owner file could not be locked because another process holds the lock (EWOULDBLOCK from flock on
    /// Linux, a sharing violation on Windows), not because the folder is read-only or missing.</summary>
    private static bool HeldByAnother(IOException error) => error.HResult is 11 or unchecked((int)0x80070020);

    /// <summary>The database's file as SQLite resolved it (<c>PRAGMA database_list</c>).</summary>
    private string SqliteFileName()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var list = connection.CreateCommand();
        list.CommandText = "SELECT file FROM pragma_database_list WHERE name = 'main'";
        return list.ExecuteScalar() is string { Length: > 0 } file ? file : _databaseFile;
    }

    /// <summary>The file a data source names: a path, or a <c>file:</c> URI (<c>file:data/ps.db</c>,
    /// <c>file:///srv/ps.db?cache=shared</c>), as SQLite reads it.</summary>
    private static string DatabaseFile(string dataSource)
    {
        if (dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var path = dataSource["file:".Length..];
            path = path.IndexOf('?') is var query and >= 0 ? path[..query] : path;
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                // An authority (empty or localhost) before the absolute path.
                path = path.IndexOf('/', 2) is var slash and >= 0 ? path[slash..] : "";
            }
            dataSource = Uri.UnescapeDataString(path);
        }
        return Path.GetFullPath(dataSource);
    }

    private Task Migrate(CancellationToken cancellationToken) =>
        WriteAsync("migrate the schema", (writer, transaction) =>
        {
            using (var create = writer.Connection.CreateCommand())
            {
                create.Transaction = transaction;
                create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";
                create.ExecuteNonQuery();
            }
            var applied = new HashSet<int>();
            using (var select = writer.Connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText = "SELECT version FROM schema_migrations";
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    applied.Add(reader.GetInt32(0));
                }
            }
            foreach (var migration in SchemaMigration.LoadEmbedded(typeof(SqliteStorageProvider).Assembly).Where(m => !applied.Contains(m.Version)))
            {
                using var apply = writer.Connection.CreateCommand();
                apply.Transaction = transaction;
                apply.CommandText = migration.Sql;
                apply.ExecuteNonQuery();
                using var record = writer.Connection.CreateCommand();
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($version, $now)";
                record.Parameters.AddWithValue("$version", migration.Version);
                record.Parameters.AddWithValue("$now", UnixMicroseconds(_clock.GetUtcNow()));
                record.ExecuteNonQuery();
            }
            return true;
        }, cancellationToken);

    // ---- grain state ----

    public Task<IReadOnlyList<StoredState?>> ReadStatesAsync(IReadOnlyList<GrainId> grains, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        if (grains.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<StoredState?>>([]);
        }
        return ReadAsync<IReadOnlyList<StoredState?>>("read grain state", async (connection, ct) =>
        {
            // In-process: one prepared statement on one connection for the whole batch.
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT version, payload FROM grain_state WHERE grain_type = $type AND grain_key = $key";
            var type = command.Parameters.Add("$type", SqliteType.Text);
            var key = command.Parameters.Add("$key", SqliteType.Text);
            command.Prepare();
            var states = new StoredState?[grains.Count];
            for (var i = 0; i < grains.Count; i++)
            {
                type.Value = grains[i].Type;
                key.Value = grains[i].Key;
                states[i] = await StoredRows.ReadStateAsync(command, ct);
            }
            return states;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StateWriteOutcome>> WriteStatesAsync(
        IReadOnlyList<StateWrite> writes, WriteUrgency urgency = WriteUrgency.Awaited, CancellationToken cancellationToken = default)
    {
        StoredRows.ThrowIfInvalid(writes);
        if (writes.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<StateWriteOutcome>>([]);
        }
        return WriteAsync<IReadOnlyList<StateWriteOutcome>>("write grain state", urgency, (writer, transaction) =>
        {
            var now = UnixMicroseconds(_clock.GetUtcNow());
            var outcomes = new StateWriteOutcome[writes.Count];
            for (var i = 0; i < writes.Count; i++)
            {
                outcomes[i] = ApplyStateWrite(writer, transaction, writes[i], now);
            }
            var events = StoredRows.EventsOfAppliedWrites(writes, outcomes);
            if (events.Count > 0)
            {
                AppendEvents(writer, transaction, events);
            }
            var (set, removed) = StoredRows.RemindersOfAppliedWrites(writes, outcomes);
            UpsertReminders(writer, transaction, set);
            DeleteReminders(writer, transaction, removed);
            return outcomes;
        }, cancellationToken);
    }

    private static StateWriteOutcome ApplyStateWrite(SqliteWriter writer, SqliteTransaction transaction, StateWrite write, long now)
    {
        if (write.Payload is null && write.ExpectedVersion == 0)
        {
            // Deleting what must not exist: nothing to do unless a row is there after all.
            var found = CurrentVersion(writer, transaction, write.Grain);
            return found == 0 ? StateWriteOutcome.Success(0) : StateWriteOutcome.Conflict(found);
        }

        SqliteCommand command;
        if (write.Payload is null)
        {
            command = writer.Command(
                "DELETE FROM grain_state WHERE grain_type = $type AND grain_key = $key AND version = $expected",
                transaction, "$type", "$key", "$expected");
        }
        else if (write.ExpectedVersion == 0)
        {
            command = writer.Command(
                """
                INSERT INTO grain_state (grain_type, grain_key, version, payload, modified_at) VALUES ($type, $key, 1, $payload, $now)
                ON CONFLICT (grain_type, grain_key) DO NOTHING
                """,
                transaction, "$type", "$key", "$payload", "$now");
            command.Parameters["$payload"].Value = write.Payload;
            command.Parameters["$now"].Value = now;
        }
        else
        {
            command = writer.Command(
                """
                UPDATE grain_state SET version = version + 1, payload = $payload, modified_at = $now
                WHERE grain_type = $type AND grain_key = $key AND version = $expected
                """,
                transaction, "$type", "$key", "$expected", "$payload", "$now");
            command.Parameters["$payload"].Value = write.Payload;
            command.Parameters["$now"].Value = now;
        }
        command.Parameters["$type"].Value = write.Grain.Type;
        command.Parameters["$key"].Value = write.Grain.Key;
        if (write.ExpectedVersion > 0)
        {
            command.Parameters["$expected"].Value = write.ExpectedVersion;
        }

        if (command.ExecuteNonQuery() == 1)
        {
            return StateWriteOutcome.Success(write.Payload is null ? 0 : write.ExpectedVersion + 1);
        }
        return StateWriteOutcome.Conflict(CurrentVersion(writer, transaction, write.Grain));
    }

    private static long CurrentVersion(SqliteWriter writer, SqliteTransaction transaction, GrainId grain)
    {
        var command = writer.Command(
            "SELECT version FROM grain_state WHERE grain_type = $type AND grain_key = $key",
            transaction, "$type", "$key");
        command.Parameters["$type"].Value = grain.Type;
        command.Parameters["$key"].Value = grain.Key;
        return command.ExecuteScalar() is long version ? version : 0;
    }

    // ---- reminders ----

    public Task UpsertRemindersAsync(IReadOnlyList<ReminderRecord> reminders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reminders);
        if (reminders.Count == 0)
        {
            return Task.CompletedTask;
        }
        return WriteAsync("upsert reminders", (writer, transaction) =>
        {
            UpsertReminders(writer, transaction, reminders);
            return true;
        }, cancellationToken);
    }

    private static void UpsertReminders(SqliteWriter writer, SqliteTransaction transaction, IReadOnlyList<ReminderRecord> reminders)
    {
        if (reminders.Count > 0)
        {
            var command = writer.Command(
                """
                INSERT INTO reminders (grain_type, grain_key, name, due_at_ms, period_ms, partition)
                VALUES ($type, $key, $name, $due, $period, $partition)
                ON CONFLICT (grain_type, grain_key, name)
                DO UPDATE SET due_at_ms = excluded.due_at_ms, period_ms = excluded.period_ms, partition = excluded.partition
                """,
                transaction, "$type", "$key", "$name", "$due", "$period", "$partition");
            foreach (var reminder in reminders)
            {
                command.Parameters["$type"].Value = reminder.Grain.Type;
                command.Parameters["$key"].Value = reminder.Grain.Key;
                command.Parameters["$name"].Value = reminder.Name;
                command.Parameters["$due"].Value = reminder.DueAtMs;
                command.Parameters["$period"].Value = reminder.PeriodMs;
                command.Parameters["$partition"].Value = reminder.Partition;
                command.ExecuteNonQuery();
            }
        }
    }

    public Task DeleteRemindersAsync(IReadOnlyList<ReminderKey> reminders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reminders);
        if (reminders.Count == 0)
        {
            return Task.CompletedTask;
        }
        return WriteAsync("delete reminders", (writer, transaction) =>
        {
            DeleteReminders(writer, transaction, reminders);
            return true;
        }, cancellationToken);
    }

    private static void DeleteReminders(SqliteWriter writer, SqliteTransaction transaction, IReadOnlyList<ReminderKey> reminders)
    {
        if (reminders.Count > 0)
        {
            var command = writer.Command(
                "DELETE FROM reminders WHERE grain_type = $type AND grain_key = $key AND name = $name",
                transaction, "$type", "$key", "$name");
            foreach (var reminder in reminders)
            {
                command.Parameters["$type"].Value = reminder.Grain.Type;
                command.Parameters["$key"].Value = reminder.Grain.Key;
                command.Parameters["$name"].Value = reminder.Name;
                command.ExecuteNonQuery();
            }
        }
    }

    public Task<IReadOnlyList<ReminderRecord>> ReadRemindersAsync(GrainId grain, CancellationToken cancellationToken = default) =>
        ReadAsync("read reminders", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT grain_type, grain_key, name, due_at_ms, period_ms, partition FROM reminders
                WHERE grain_type = $type AND grain_key = $key ORDER BY name
                """;
            command.Parameters.AddWithValue("$type", grain.Type);
            command.Parameters.AddWithValue("$key", grain.Key);
            return await StoredRows.ReadRemindersAsync(command, ct);
        }, cancellationToken);

    public Task<IReadOnlyList<ReminderRecord>> ReadDueRemindersAsync(IReadOnlyList<int> partitions, long fromInclusive, long toExclusive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<ReminderRecord>>([]);
        }
        return ReadAsync("read due reminders", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            // json_each turns the partition list into one bound parameter, so the statement text never varies.
            command.CommandText = """
                SELECT grain_type, grain_key, name, due_at_ms, period_ms, partition FROM reminders
                WHERE partition IN (SELECT value FROM json_each($partitions)) AND due_at_ms >= $from AND due_at_ms < $to
                ORDER BY due_at_ms, grain_type, grain_key, name
                """;
            command.Parameters.AddWithValue("$partitions", JsonArray(partitions));
            command.Parameters.AddWithValue("$from", fromInclusive);
            command.Parameters.AddWithValue("$to", toExclusive);
            return await StoredRows.ReadRemindersAsync(command, ct);
        }, cancellationToken);
    }

    public Task<long> CountRemindersAsync(IReadOnlyList<int> partitions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count == 0)
        {
            return Task.FromResult(0L);
        }
        return ReadAsync("count reminders", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM reminders WHERE partition IN (SELECT value FROM json_each($partitions))";
            command.Parameters.AddWithValue("$partitions", JsonArray(partitions));
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, cancellationToken);
    }

    // ---- domain event journal ----

    public Task<IReadOnlyList<long>> AppendEventsAsync(IReadOnlyList<JournalEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<long>>([]);
        }
        return WriteAsync<IReadOnlyList<long>>("append journal events", (writer, transaction) => AppendEvents(writer, transaction, events), cancellationToken);
    }

    private static long[] AppendEvents(SqliteWriter writer, SqliteTransaction transaction, IReadOnlyList<JournalEvent> events)
    {
        var command = writer.Command(
            """
            INSERT INTO journal (stream_id, event_type, occurred_at, actor, location, payload)
            VALUES ($stream, $type, $at, $actor, $location, $payload) RETURNING sequence
            """,
            transaction, "$stream", "$type", "$at", "$actor", "$location", "$payload");
        var sequences = new long[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            command.Parameters["$stream"].Value = e.StreamId;
            command.Parameters["$type"].Value = e.EventType;
            command.Parameters["$at"].Value = UnixMicroseconds(e.OccurredAt);
            command.Parameters["$actor"].Value = (object?)e.Actor ?? DBNull.Value;
            command.Parameters["$location"].Value = (object?)e.Location ?? DBNull.Value;
            command.Parameters["$payload"].Value = e.PayloadJson;
            sequences[i] = (long)command.ExecuteScalar()!;
        }
        return sequences;
    }

    public Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(string streamId, long afterSequence, int maxCount, CancellationToken cancellationToken = default) =>
        ReadAsync("read a journal stream", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT sequence, stream_id, event_type, occurred_at, actor, location, payload FROM journal
                WHERE stream_id = $stream AND sequence > $after ORDER BY sequence LIMIT $max
                """;
            command.Parameters.AddWithValue("$stream", streamId);
            command.Parameters.AddWithValue("$after", afterSequence);
            command.Parameters.AddWithValue("$max", maxCount);
            return await StoredRows.ReadEventsAsync(command, ReadTimestamp, ct);
        }, cancellationToken);

    public Task<long> LastEventSequenceAsync(CancellationToken cancellationToken = default) =>
        ReadAsync("read the last journal sequence", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT coalesce(max(sequence), 0) FROM journal";
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, cancellationToken);

    public Task<IReadOnlyList<StoredEvent>> ReadAllEventsAsync(long afterSequence, int maxCount, CancellationToken cancellationToken = default) =>
        ReadAsync("read the journal", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT sequence, stream_id, event_type, occurred_at, actor, location, payload FROM journal
                WHERE sequence > $after ORDER BY sequence LIMIT $max
                """;
            command.Parameters.AddWithValue("$after", afterSequence);
            command.Parameters.AddWithValue("$max", maxCount);
            return await StoredRows.ReadEventsAsync(command, ReadTimestamp, ct);
        }, cancellationToken);

    // ---- write-ahead logs ----

    public Task<long> AppendLogAsync(string log, byte[] record, WriteUrgency urgency = WriteUrgency.Awaited, CancellationToken cancellationToken = default)
    {
        StoredRows.ThrowIfInvalidLog(log);
        ArgumentNullException.ThrowIfNull(record);
        return WriteAsync("append to a log", urgency, (writer, transaction) =>
        {
            var command = writer.Command(
                "INSERT INTO logs (log, payload, appended_at) VALUES ($log, $payload, $at) RETURNING sequence",
                transaction, "$log", "$payload", "$at");
            command.Parameters["$log"].Value = log;
            command.Parameters["$payload"].Value = record;
            command.Parameters["$at"].Value = UnixMicroseconds(_clock.GetUtcNow());
            return (long)command.ExecuteScalar()!;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<LogRecord>> ReadLogAsync(string log, long afterSequence, int maxCount, CancellationToken cancellationToken = default)
    {
        StoredRows.ThrowIfInvalidLog(log);
        return ReadAsync("read a log", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT sequence, payload, appended_at FROM logs WHERE log = $log AND sequence > $after ORDER BY sequence LIMIT $max";
            command.Parameters.AddWithValue("$log", log);
            command.Parameters.AddWithValue("$after", afterSequence);
            command.Parameters.AddWithValue("$max", maxCount);
            return await StoredRows.ReadLogRecordsAsync(command, ReadTimestamp, ct);
        }, cancellationToken);
    }

    public Task<int> TruncateLogAsync(string log, long throughSequence, CancellationToken cancellationToken = default)
    {
        StoredRows.ThrowIfInvalidLog(log);
        return WriteAsync("truncate a log", WriteUrgency.Background, (writer, transaction) =>
        {
            var command = writer.Command("DELETE FROM logs WHERE log = $log AND sequence <= $through", transaction, "$log", "$through");
            command.Parameters["$log"].Value = log;
            command.Parameters["$through"].Value = throughSequence;
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    // ---- catalog ----

    public Task<CatalogImportResult> ImportCatalogAsync(
        string kind, string? parentKind, IAsyncEnumerable<CatalogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(entries);
        // The whole import holds the single writer: one transaction, rows staged with a prepared INSERT, then
        // checked and merged set-based. Grain state writes wait meanwhile (seconds for a million rows).
        return WriteAsync("import catalog entries", async (writer, transaction, ct) =>
        {
            Execute(writer, transaction, "DROP TABLE IF EXISTS temp.catalog_import");
            Execute(writer, transaction,
                "CREATE TEMP TABLE catalog_import (key TEXT NOT NULL, parent_key TEXT, payload TEXT NOT NULL)");
            var stage = writer.Command(
                "INSERT INTO temp.catalog_import (key, parent_key, payload) VALUES ($key, $parent, $payload)",
                transaction, "$key", "$parent", "$payload");
            long staged = 0;
            await foreach (var entry in entries.WithCancellation(ct))
            {
                stage.Parameters["$key"].Value = entry.Key;
                stage.Parameters["$parent"].Value = (object?)entry.ParentKey ?? DBNull.Value;
                stage.Parameters["$payload"].Value = entry.Payload;
                stage.ExecuteNonQuery();
                staged++;
            }
            if (parentKind is not null)
            {
                var orphans = FindOrphans(writer, transaction, parentKind);
                if (orphans.Count > 0)
                {
                    return (new CatalogImportResult(0, 0, 0, orphans), false);
                }
            }
            var existing = Scalar(writer, transaction, kind,
                "SELECT count(*) FROM temp.catalog_import AS i JOIN catalog AS c ON c.kind = $kind AND c.key = i.key");
            var unchanged = Scalar(writer, transaction, kind, """
                SELECT count(*) FROM temp.catalog_import AS i JOIN catalog AS c ON c.kind = $kind AND c.key = i.key
                WHERE c.payload = i.payload AND c.parent_key IS i.parent_key
                """);
            // WHERE true: SQLite needs it to read ON CONFLICT after INSERT ... SELECT. Identical rows are not touched.
            var upsert = writer.Command("""
                INSERT INTO catalog (kind, key, parent_key, payload, modified_at)
                SELECT $kind, key, parent_key, payload, $now FROM temp.catalog_import WHERE true
                ON CONFLICT (kind, key) DO UPDATE
                SET parent_key = excluded.parent_key, payload = excluded.payload, modified_at = excluded.modified_at
                WHERE catalog.payload IS NOT excluded.payload OR catalog.parent_key IS NOT excluded.parent_key
                """, transaction, "$kind", "$now");
            upsert.Parameters["$kind"].Value = kind;
            upsert.Parameters["$now"].Value = UnixMicroseconds(_clock.GetUtcNow());
            upsert.ExecuteNonQuery();
            Execute(writer, transaction, "DROP TABLE temp.catalog_import");
            return (new CatalogImportResult(staged - existing, existing - unchanged, unchanged, []), true);
        }, cancellationToken);
    }

    private static List<CatalogOrphan> FindOrphans(SqliteWriter writer, SqliteTransaction transaction, string parentKind)
    {
        var command = writer.Command("""
            SELECT i.key, i.parent_key FROM temp.catalog_import AS i
            WHERE i.parent_key IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM catalog AS c WHERE c.kind = $parent_kind AND c.key = i.parent_key)
            ORDER BY i.key
            """, transaction, "$parent_kind");
        command.Parameters["$parent_kind"].Value = parentKind;
        var orphans = new List<CatalogOrphan>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            orphans.Add(new CatalogOrphan(reader.GetString(0), reader.GetString(1)));
        }
        return orphans;
    }

    private static void Execute(SqliteWriter writer, SqliteTransaction transaction, string sql)
    {
        using var command = writer.Connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteWriter writer, SqliteTransaction transaction, string kind, string sql)
    {
        var command = writer.Command(sql, transaction, "$kind");
        command.Parameters["$kind"].Value = kind;
        return (long)command.ExecuteScalar()!;
    }

    public Task<IReadOnlyList<CatalogEntry?>> ReadCatalogAsync(string kind, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<CatalogEntry?>>([]);
        }
        return ReadAsync<IReadOnlyList<CatalogEntry?>>("read catalog entries", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT key, parent_key, payload FROM catalog WHERE kind = $kind AND key = $key";
            command.Parameters.AddWithValue("$kind", kind);
            var key = command.Parameters.Add("$key", SqliteType.Text);
            command.Prepare();
            var entries = new CatalogEntry?[keys.Count];
            for (var i = 0; i < keys.Count; i++)
            {
                key.Value = keys[i];
                await using var reader = await command.ExecuteReaderAsync(ct);
                entries[i] = await reader.ReadAsync(ct) ? StoredRows.CatalogEntry(reader, 0) : null;
            }
            return entries;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<CatalogEntry>> ReadCatalogChildrenAsync(string kind, IReadOnlyList<string> parentKeys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parentKeys);
        if (parentKeys.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<CatalogEntry>>([]);
        }
        return ReadAsync("read catalog children", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT key, parent_key, payload FROM catalog
                WHERE kind = $kind AND parent_key IN (SELECT value FROM json_each($parents))
                ORDER BY parent_key, key
                """;
            command.Parameters.AddWithValue("$kind", kind);
            command.Parameters.AddWithValue("$parents", JsonSerializer.Serialize(parentKeys));
            return await StoredRows.ReadCatalogEntriesAsync(command, ct);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<CatalogChildGroup>> GroupCatalogChildrenAsync(
        string kind, IReadOnlyList<string> parentKeys, string field, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parentKeys);
        StoredRows.ThrowIfNotFieldName(field);
        if (parentKeys.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<CatalogChildGroup>>([]);
        }
        return ReadAsync("group catalog children", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT parent_key, json_extract(payload, $path) AS value, count(*), min(key) FROM catalog
                WHERE kind = $kind AND parent_key IN (SELECT value FROM json_each($parents))
                GROUP BY parent_key, value ORDER BY parent_key, value
                """;
            command.Parameters.AddWithValue("$kind", kind);
            command.Parameters.AddWithValue("$parents", JsonSerializer.Serialize(parentKeys));
            command.Parameters.AddWithValue("$path", "$." + field);
            return await StoredRows.ReadCatalogChildGroupsAsync(command, ct);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<CatalogLink>> ReadCatalogLinksAsync(string kind, string? afterKey, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        return ReadAsync<IReadOnlyList<CatalogLink>>("read catalog links", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT key, parent_key FROM catalog WHERE kind = $kind AND key > $after ORDER BY key LIMIT $max";
            command.Parameters.AddWithValue("$kind", kind);
            command.Parameters.AddWithValue("$after", afterKey ?? "");
            command.Parameters.AddWithValue("$max", maxCount);
            return await StoredRows.ReadCatalogLinksAsync(command, ct);
        }, cancellationToken);
    }

    public Task<long> CountCatalogAsync(string kind, CancellationToken cancellationToken = default) =>
        ReadAsync("count catalog entries", async (connection, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM catalog WHERE kind = $kind";
            command.Parameters.AddWithValue("$kind", kind);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, cancellationToken);

    // ---- notification outbox ----

    public Task<int> EnqueueNotificationsAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            return Task.FromResult(0);
        }
        return WriteAsync("enqueue notifications", (writer, transaction) =>
        {
            var command = writer.Command(
                """
                INSERT INTO outbox (dedup_key, channel, recipient, payload, created_at) VALUES ($dedup, $channel, $recipient, $payload, $created)
                ON CONFLICT (dedup_key) DO NOTHING
                """,
                transaction, "$dedup", "$channel", "$recipient", "$payload", "$created");
            var added = 0;
            foreach (var message in messages)
            {
                command.Parameters["$dedup"].Value = message.DeduplicationKey;
                command.Parameters["$channel"].Value = message.Channel;
                command.Parameters["$recipient"].Value = message.Recipient;
                command.Parameters["$payload"].Value = message.PayloadJson;
                command.Parameters["$created"].Value = UnixMicroseconds(message.CreatedAt);
                added += command.ExecuteNonQuery();
            }
            return added;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StoredOutboxMessage>> ClaimNotificationsAsync(int maxCount, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        if (maxCount <= 0)
        {
            return Task.FromResult<IReadOnlyList<StoredOutboxMessage>>([]);
        }
        return WriteAsync<IReadOnlyList<StoredOutboxMessage>>("claim notifications", WriteUrgency.Background, (writer, transaction) =>
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var command = writer.Command(
                """
                UPDATE outbox SET lease_until_ms = $until, attempts = attempts + 1
                WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND lease_until_ms <= $now ORDER BY id LIMIT $max)
                RETURNING id, dedup_key, channel, recipient, payload, created_at, attempts
                """,
                transaction, "$until", "$now", "$max");
            command.Parameters["$until"].Value = now + (long)lease.TotalMilliseconds;
            command.Parameters["$now"].Value = now;
            command.Parameters["$max"].Value = maxCount;
            return StoredRows.ReadClaimedMessages(command, ReadTimestamp);
        }, cancellationToken);
    }

    public Task MarkNotificationsDeliveredAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return Task.CompletedTask;
        }
        return WriteAsync("mark notifications delivered", WriteUrgency.Background, (writer, transaction) =>
        {
            var command = writer.Command(
                "UPDATE outbox SET delivered_at = $now WHERE id = $id AND delivered_at IS NULL",
                transaction, "$now", "$id");
            command.Parameters["$now"].Value = UnixMicroseconds(_clock.GetUtcNow());
            foreach (var id in ids)
            {
                command.Parameters["$id"].Value = id;
                command.ExecuteNonQuery();
            }
            return true;
        }, cancellationToken);
    }

    public Task<int> DeleteDeliveredNotificationsAsync(DateTimeOffset deliveredBefore, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        // Oldest first by id: the delivered rows are the head of the table, so the scan stops soon after them.
        return WriteAsync("delete delivered notifications", WriteUrgency.Background, (writer, transaction) =>
        {
            var command = writer.Command(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < $before ORDER BY id LIMIT $max)",
                transaction, "$before", "$max");
            command.Parameters["$before"].Value = UnixMicroseconds(deliveredBefore);
            command.Parameters["$max"].Value = maxCount;
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _checkpointer.DisposeAsync();
        await _writes.StopAsync(() =>
        {
            _writer?.Dispose();
            _writer = null;
        });
        // Pooled read connections would otherwise keep the file open after the provider is gone.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        _owner?.Dispose(); // last: the store is let go only once nothing more is written to it
        _owner = null;
    }

    // ---- plumbing ----

    /// <summary>Runs <paramref name="work"/> on the writer connection in one IMMEDIATE transaction, so a locked
    /// database fails before anything is written; any failure rolls the whole batch back.</summary>
    private Task<T> WriteAsync<T>(string operation, Func<SqliteWriter, SqliteTransaction, T> work, CancellationToken cancellationToken) =>
        WriteAsync(operation, WriteUrgency.Awaited, work, cancellationToken);

    private Task<T> WriteAsync<T>(string operation, WriteUrgency urgency, Func<SqliteWriter, SqliteTransaction, T> work, CancellationToken cancellationToken) =>
        _writes.Enqueue(urgency, () => Transaction(operation, (writer, transaction) => (work(writer, transaction), true)), cancellationToken);

    /// <summary><see cref="WriteAsync{T}(string, Func{SqliteWriter, SqliteTransaction, T}, CancellationToken)"/> for work
    /// that awaits its input (a streamed import) while it holds the writer, and may decide to commit nothing. The
    /// writer thread waits for it: every other write waits for an import anyway.</summary>
    private Task<T> WriteAsync<T>(
        string operation, Func<SqliteWriter, SqliteTransaction, CancellationToken, Task<(T Result, bool Commit)>> work, CancellationToken cancellationToken) =>
        _writes.Enqueue(WriteUrgency.Awaited, () => Transaction(operation,
            (writer, transaction) => work(writer, transaction, cancellationToken).GetAwaiter().GetResult()), cancellationToken);

    /// <summary>One transaction on the writer connection; runs on the writer thread only.</summary>
    private T Transaction<T>(string operation, Func<SqliteWriter, SqliteTransaction, (T Result, bool Commit)> work)
    {
        try
        {
            _writer ??= OpenWriter();
            using var transaction = _writer.Connection.BeginTransaction(deferred: false);
            var (result, commit) = work(_writer, transaction);
            if (commit)
            {
                transaction.Commit();
                _checkpointer.Committed();
            }
            return result;
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            // The connection may be the casualty (file moved, I/O error): the next batch opens a fresh one.
            _writer?.Dispose();
            _writer = null;
            throw new StorageUnavailableException(
                $"SQLite database '{_databaseFile}' is unavailable: could not {operation} ({ex.Message}). The transaction was rolled back; nothing was written.", ex);
        }
    }

    private async Task<T> ReadAsync<T>(string operation, Func<SqliteConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw new StorageUnavailableException(
                $"SQLite database '{_databaseFile}' is unavailable: could not {operation} ({ex.Message}).", ex);
        }
    }

    private SqliteWriter OpenWriter()
    {
        CreateFolder();
        return SqliteWriter.Open(_connectionString, _busyTimeout, _writerCacheMegabytes, _synchronous);
    }

    /// <summary>The database's folder, which SQLite does not create.</summary>
    private void CreateFolder()
    {
        if (Path.GetDirectoryName(_databaseFile) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }
    }

    /// <summary>The store cannot take the operation now, through no fault of the request: busy, locked, an I/O error,
    /// the file gone, the disk full, or the file or its folder made read-only (a full disk answered users 500).</summary>
    private static bool IsUnavailable(SqliteException ex) =>
        (ex.SqliteErrorCode & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED or raw.SQLITE_IOERR or raw.SQLITE_CANTOPEN
            or raw.SQLITE_FULL or raw.SQLITE_READONLY;

    private static string JsonArray(IReadOnlyList<int> values) =>
        "[" + string.Join(',', values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    private static long UnixMicroseconds(DateTimeOffset value) =>
        (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>SQLite has no timestamp type: timestamps are stored as unix microseconds (see <see cref="UnixMicroseconds"/>).</summary>
    private static DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
        DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(ordinal) * TimeSpan.TicksPerMicrosecond);
}

