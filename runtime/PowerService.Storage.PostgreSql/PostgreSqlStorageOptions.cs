namespace PowerService.Storage.PostgreSql;

public sealed class PostgreSqlStorageOptions
{
    /// <summary>For example <c>Host=db;Port=5432;Database=powerservice;Username=powerservice;Password=…</c>.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The silo owns the database while it runs (a session lock held on a connection of its own): a second silo
    /// on the same database is refused at start. Until partitions get owners across silos (DESIGN.md §7) a second silo
    /// read stale copies of grains, answered 500s on etag conflicts, deleted the first one's reminders and left its
    /// dispatch and order lists unable to save. Off only for tools and tests that open the store several times at once.</summary>
    public bool OwnsStore { get; init; } = true;

    /// <summary>The clock for stored timestamps and outbox leases.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
