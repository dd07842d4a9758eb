using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.Storage.Sqlite;

namespace PowerService.Silo;

/// <summary>Chooses the store from the "Storage" section: Provider = sqlite (embedded default) or postgresql.</summary>
internal static class StorageConfiguration
{
    public static IServiceCollection AddConfiguredStorage(this IServiceCollection services, IConfigurationSection section)
    {
        var provider = section["Provider"] ?? "sqlite";
        var connectionString = section["ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("Storage:ConnectionString is required (for example 'Data Source=data/powerservice.db' for SQLite).");
        }
        IStorageProvider store = provider.ToUpperInvariant() switch
        {
            "SQLITE" => new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = connectionString, Synchronous = SqliteSync(section["Synchronous"]) }),
            "POSTGRESQL" => new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString }),
            _ => throw new InvalidOperationException($"Storage:Provider must be 'sqlite' or 'postgresql', not '{provider}'."),
        };
        // Registered through a factory so the container disposes it (closing connections) when the host stops.
        return services.AddSingleton(_ => store);
    }

    private static SqliteSynchronous SqliteSync(string? setting) => setting?.ToUpperInvariant() switch
    {
        null or "" or "FULL" => SqliteSynchronous.Full,
        "NORMAL" => SqliteSynchronous.Normal,
        _ => throw new InvalidOperationException($"Storage:Synchronous must be 'full' or 'normal', not '{setting}'."),
    };
}
