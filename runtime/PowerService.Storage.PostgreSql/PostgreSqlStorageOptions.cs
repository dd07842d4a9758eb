namespace PowerService.Storage.PostgreSql;

public sealed class PostgreSqlStorageOptions
{
    /// <summary>For example <c>Host=db;Port=5432;Database=powerservice;Username=powerservice;Password=…</c>.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The clock for stored timestamps and outbox leases.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
