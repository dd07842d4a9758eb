namespace PowerService.Runtime.Storage;

/// <summary>Durable storage for one silo: grain state, reminders, the domain event journal and the
/// notification outbox. One contract, two providers (SQLite embedded, PostgreSQL production); the same
/// contract test suite runs against both.
/// Errors: a store that cannot be reached or answers with a transient failure throws
/// <see cref="StorageUnavailableException"/>; every batch method is one transaction, so a failure writes nothing.</summary>
public interface IStorageProvider : IAsyncDisposable
{
    /// <summary>Short name for logs and metrics: "sqlite" or "postgresql".</summary>
    string Name { get; }

    /// <summary>Creates or migrates the schema from the provider's versioned SQL files. Safe to call repeatedly
    /// and from several processes at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    // ---- grain state ----

    /// <summary>The stored state of each grain, in order, null where none is stored. The silo batches the reads of
    /// activations that start together (a storm activates thousands at once) into one call.</summary>
    Task<IReadOnlyList<StoredState?>> ReadStatesAsync(IReadOnlyList<GrainId> grains, CancellationToken cancellationToken = default);

    /// <summary>The stored state of one grain, or null when none is stored.</summary>
    async Task<StoredState?> ReadStateAsync(GrainId grain, CancellationToken cancellationToken = default) =>
        (await ReadStatesAsync([grain], cancellationToken))[0];

    /// <summary>Applies the writes in one transaction with optimistic concurrency per item: an item applies only
    /// when the stored version equals <see cref="StateWrite.ExpectedVersion"/> (0 = no row may exist).
    /// Returns one outcome per item, in order. Conflicting items change nothing; the others commit, each with its
    /// journal events (appended in batch order) and its reminder changes. A store with one writer (SQLite) commits <see cref="WriteUrgency.Background"/>
    /// batches after the writes callers wait on.</summary>
    Task<IReadOnlyList<StateWriteOutcome>> WriteStatesAsync(
        IReadOnlyList<StateWrite> writes, WriteUrgency urgency = WriteUrgency.Awaited, CancellationToken cancellationToken = default);

    // ---- reminders ----

    /// <summary>Inserts or replaces reminders by (grain, name), in one transaction.</summary>
    Task UpsertRemindersAsync(IReadOnlyList<ReminderRecord> reminders, CancellationToken cancellationToken = default);

    /// <summary>Deletes reminders by (grain, name), in one transaction. Missing ones are ignored.</summary>
    Task DeleteRemindersAsync(IReadOnlyList<ReminderKey> reminders, CancellationToken cancellationToken = default);

    /// <summary>The reminders of one grain.</summary>
    Task<IReadOnlyList<ReminderRecord>> ReadRemindersAsync(GrainId grain, CancellationToken cancellationToken = default);

    /// <summary>Reminders in the given partitions with <paramref name="fromInclusive"/> &lt;= due &lt; <paramref name="toExclusive"/>
    /// (unix milliseconds).</summary>
    Task<IReadOnlyList<ReminderRecord>> ReadDueRemindersAsync(IReadOnlyList<int> partitions, long fromInclusive, long toExclusive, CancellationToken cancellationToken = default);

    /// <summary>How many reminders are stored in the given partitions.</summary>
    Task<long> CountRemindersAsync(IReadOnlyList<int> partitions, CancellationToken cancellationToken = default);

    // ---- domain event journal (append-only) ----

    /// <summary>Appends events in one transaction and returns the sequence number given to each, in order.
    /// Sequence numbers are increasing across the whole journal.</summary>
    Task<IReadOnlyList<long>> AppendEventsAsync(IReadOnlyList<JournalEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Events of one stream with sequence &gt; <paramref name="afterSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(string streamId, long afterSequence, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Events of all streams with sequence &gt; <paramref name="afterSequence"/>, oldest first (live feeds, indicators).</summary>
    Task<IReadOnlyList<StoredEvent>> ReadAllEventsAsync(long afterSequence, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The sequence of the newest journal event (0 for an empty journal): where a live feed starts reading.</summary>
    Task<long> LastEventSequenceAsync(CancellationToken cancellationToken = default);

    // ---- write-ahead logs (what a grain holds written behind, until it is stored) ----

    /// <summary>Appends one record to the log named <paramref name="log"/> and returns its sequence, increasing across
    /// every log of the store. A record is durable when this completes: a silo logs what it acknowledges before its
    /// grains have stored it, and replays the log after a crash. <paramref name="urgency"/> as for state writes: a bulk
    /// sender's record (<see cref="WriteUrgency.Background"/>) goes after the writes people wait on.</summary>
    Task<long> AppendLogAsync(string log, byte[] record, WriteUrgency urgency = WriteUrgency.Awaited, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> records of <paramref name="log"/> with sequence &gt;
    /// <paramref name="afterSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<LogRecord>> ReadLogAsync(string log, long afterSequence, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Deletes the records of <paramref name="log"/> with sequence &lt;= <paramref name="throughSequence"/> (their
    /// effects are stored) and returns how many. Nobody waits for it: a store with one writer commits it after the
    /// writes callers wait on.</summary>
    Task<int> TruncateLogAsync(string log, long throughSequence, CancellationToken cancellationToken = default);

    // ---- catalog (reference data: grid topology and the like) ----

    /// <summary>Imports the entries of one catalog kind in ONE transaction. Every entry with a parent key must find
    /// that parent among the stored entries of <paramref name="parentKind"/> (null: parent keys are not checked);
    /// when any does not, nothing is written and the result lists them, ordered by key. Otherwise new keys are inserted, changed
    /// entries updated and identical ones left untouched, so importing the same entries twice changes nothing.
    /// Keys must be distinct within one import (the caller checks; a store may refuse the batch otherwise).
    /// The entries are streamed, never held all at once; an exception thrown while enumerating them rolls the
    /// import back and reaches the caller.</summary>
    Task<CatalogImportResult> ImportCatalogAsync(
        string kind, string? parentKind, IAsyncEnumerable<CatalogEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>The entries of <paramref name="kind"/> with the given keys, in order, null where none is stored.</summary>
    Task<IReadOnlyList<CatalogEntry?>> ReadCatalogAsync(string kind, IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>The entries of <paramref name="kind"/> whose parent key is one of <paramref name="parentKeys"/>,
    /// ordered by parent key, then key.</summary>
    Task<IReadOnlyList<CatalogEntry>> ReadCatalogChildrenAsync(string kind, IReadOnlyList<string> parentKeys, CancellationToken cancellationToken = default);

    /// <summary>The entries of <paramref name="kind"/> under each of <paramref name="parentKeys"/>, grouped by the
    /// value of one top-level text <paramref name="field"/> of their payloads (null where it is absent or null): how
    /// many, and the least key of each group. Ordered by parent key, then value, null first. No payload leaves the
    /// store: a parent that counts its children and picks out the one with a role reads a row per group, not a row per
    /// child. <paramref name="field"/> is a JSON property name of letters, digits and underscores.</summary>
    Task<IReadOnlyList<CatalogChildGroup>> GroupCatalogChildrenAsync(
        string kind, IReadOnlyList<string> parentKeys, string field, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> keys of <paramref name="kind"/> with their parent keys, after
    /// <paramref name="afterKey"/> (null: from the first) in the store's key order, so that walking the pages visits
    /// every entry once. Without payloads: for directories that route by parent (meter → transformer area).</summary>
    Task<IReadOnlyList<CatalogLink>> ReadCatalogLinksAsync(string kind, string? afterKey, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>How many entries of <paramref name="kind"/> are stored.</summary>
    Task<long> CountCatalogAsync(string kind, CancellationToken cancellationToken = default);

    // ---- notification outbox ----

    /// <summary>Adds notifications in one transaction. A message whose <see cref="OutboxMessage.DeduplicationKey"/>
    /// is already stored is skipped. Returns how many were added.</summary>
    Task<int> EnqueueNotificationsAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>Claims up to <paramref name="maxCount"/> undelivered messages whose lease has run out, leasing them
    /// until now + <paramref name="lease"/>, oldest first. A claimed message not marked delivered comes back after the lease.</summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ClaimNotificationsAsync(int maxCount, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Marks messages delivered; they are never claimed again.</summary>
    Task MarkNotificationsDeliveredAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default);

    /// <summary>Deletes up to <paramref name="maxCount"/> messages delivered before <paramref name="deliveredBefore"/>,
    /// oldest first; returns how many. Their deduplication keys go with them: a message enqueued again under one of
    /// them afterwards is added.</summary>
    Task<int> DeleteDeliveredNotificationsAsync(DateTimeOffset deliveredBefore, int maxCount, CancellationToken cancellationToken = default);
}

/// <summary>Whether someone waits for a write: a grain's turn or a request (<see cref="Awaited"/>), or nobody, because
/// the state is written behind (<see cref="Background"/>).</summary>
public enum WriteUrgency
{
    Awaited,
    Background,
}

/// <summary>A grain's stored state: its version (the etag) and its serialized payload.</summary>
public sealed record StoredState(long Version, byte[] Payload);

/// <summary>Write <paramref name="Payload"/> for <paramref name="Grain"/> if its stored version is
/// <paramref name="ExpectedVersion"/>; a null payload deletes the row. <paramref name="Events"/> are appended to the
/// journal in the same transaction, only if the write applies: a state change and the events that explain it are
/// stored together or not at all. <paramref name="Reminders"/> likewise: reminders set (inserted or replaced) or
/// removed with the state, so a state that counts on a reminder is never stored without it, nor a reminder left
/// behind by a state that no longer wants it. Within a batch, the changes of applied writes take effect in batch order.</summary>
public sealed record StateWrite(
    GrainId Grain, long ExpectedVersion, byte[]? Payload, IReadOnlyList<JournalEvent>? Events = null, IReadOnlyList<ReminderWrite>? Reminders = null);

/// <summary>A reminder set (<paramref name="Record"/>) or removed (<paramref name="Record"/> null) by a state write.</summary>
public readonly record struct ReminderWrite(ReminderKey Key, ReminderRecord? Record)
{
    public static ReminderWrite Set(ReminderRecord record) => new(record.Key, record);

    public static ReminderWrite Remove(ReminderKey key) => new(key, null);
}

/// <summary>The result of one write: applied with <paramref name="NewVersion"/> (0 after a delete), or a
/// conflict with the <paramref name="CurrentVersion"/> found (0 = no row).</summary>
public readonly record struct StateWriteOutcome(bool Applied, long NewVersion, long CurrentVersion)
{
    public static StateWriteOutcome Success(long newVersion) => new(true, newVersion, newVersion);
    public static StateWriteOutcome Conflict(long currentVersion) => new(false, 0, currentVersion);
}

public readonly record struct ReminderKey(GrainId Grain, string Name);

/// <summary>A durable reminder. Times are unix milliseconds; <paramref name="PeriodMs"/> 0 means it fires once.</summary>
public sealed record ReminderRecord(GrainId Grain, string Name, long DueAtMs, long PeriodMs, int Partition)
{
    public ReminderKey Key => new(Grain, Name);
}

/// <summary>A domain event to append: who did what to which stream, when and where.</summary>
public sealed record JournalEvent(string StreamId, string EventType, DateTimeOffset OccurredAt, string? Actor, string? Location, string PayloadJson);

public sealed record StoredEvent(long Sequence, string StreamId, string EventType, DateTimeOffset OccurredAt, string? Actor, string? Location, string PayloadJson);

/// <summary>One record of a write-ahead log: its sequence, the bytes appended, and when (the store's clock).</summary>
public sealed record LogRecord(long Sequence, byte[] Payload, DateTimeOffset AppendedAt);

/// <summary>A notification to deliver at least once through <paramref name="Channel"/> (sms, app, wechat…).</summary>
public sealed record OutboxMessage(string DeduplicationKey, string Channel, string Recipient, string PayloadJson, DateTimeOffset CreatedAt);

public sealed record StoredOutboxMessage(long Id, string DeduplicationKey, string Channel, string Recipient, string PayloadJson, DateTimeOffset CreatedAt, int Attempts);

/// <summary>One catalog entry: its key, the key of its parent (in the parent kind named at import) and its payload,
/// JSON text the store keeps byte for byte.</summary>
public sealed record CatalogEntry(string Key, string? ParentKey, string Payload);

/// <summary>A catalog key and its parent key, without the payload.</summary>
public readonly record struct CatalogLink(string Key, string? ParentKey);

/// <summary>The children of one parent whose payloads hold the same <see cref="Value"/> in the field grouped by: how
/// many, and the least of their keys (in the store's byte order).</summary>
public readonly record struct CatalogChildGroup(string ParentKey, string? Value, int Count, string FirstKey);

/// <summary>What an import did: entries inserted, updated and found unchanged, or, when some entries name a parent
/// that does not exist, those entries (and nothing was written).</summary>
public sealed record CatalogImportResult(long Inserted, long Updated, long Unchanged, IReadOnlyList<CatalogOrphan> Orphans)
{
    public bool Applied => Orphans.Count == 0;
}

/// <summary>An imported entry whose parent does not exist: its key and the parent key it named.</summary>
public sealed record CatalogOrphan(string Key, string ParentKey);
