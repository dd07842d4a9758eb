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

    /// <summary>The clock for stored timestamps and outbox leases.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
