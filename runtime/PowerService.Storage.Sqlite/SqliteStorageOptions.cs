namespace PowerService.Storage.Sqlite;

public sealed class SqliteStorageOptions
{
    /// <summary>For example <c>Data Source=data/powerservice.db</c>; the file's directory is created when missing.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>How long an operation waits for a lock held by another connection or process before it fails
    /// with <see cref="Runtime.StorageUnavailableException"/>.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Page cache of the one writing connection. SQLite's default (2 MB) is far smaller than the pages a storm
    /// rewrites (every transformer area's record every few seconds): each write then reads its old pages back from the
    /// file first.</summary>
    public int WriterCacheMegabytes { get; init; } = 64;

    /// <summary>How often the write-ahead log is folded into the database file, on a connection of its own (after writes
    /// only). The writer itself never checkpoints, so no commit waits for one.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pages (4 KB) the write-ahead log may hold before the checkpointer pauses the writer between two
    /// transactions (at most 100 ms) to copy the last frames, so that the log restarts under writes that never pause;
    /// a log file larger than this is emptied in the first checkpoint interval without a commit. At four times this
    /// one TRUNCATE checkpoint empties the log while blocking writes.</summary>
    public long WalPagesLimit { get; init; } = 50_000;

    /// <summary>When a commit reaches the disk. <see cref="SqliteSynchronous.Full"/> (the default): every commit is synced
    /// to the write-ahead log's file before it is acknowledged, so nothing acknowledged is lost when the machine loses power
    /// (a typhoon's command center on its UPS). <see cref="SqliteSynchronous.Normal"/> syncs at checkpoints only: safe
    /// against a crash of the silo, not of the machine — the last second's acknowledged writes can go.</summary>
    public SqliteSynchronous Synchronous { get; init; } = SqliteSynchronous.Full;

    /// <summary>The clock for stored timestamps and outbox leases.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>SQLite's <c>PRAGMA synchronous</c> for the writing connection (WAL mode).</summary>
public enum SqliteSynchronous
{
    /// <summary>Synced at checkpoints: durable across a crash of the process, not a loss of power.</summary>
    Normal,

    /// <summary>Synced at every commit: durable across a loss of power.</summary>
    Full,
}
