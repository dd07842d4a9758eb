using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests.Support;

public static class TestStores
{
    /// <summary>A factory for providers over one fresh PostgreSQL database. Each provider gets a small pool: tests run
    /// side by side against one server with a bounded number of connections.</summary>
    public static async Task<Func<IStorageProvider>> PostgreSqlAsync(PostgresFixture postgres, string purpose)
    {
        var connectionString = await postgres.Cluster.CreateDatabaseAsync($"{purpose}_{Guid.NewGuid():N}") + ";Maximum Pool Size=10";
        return () => new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString });
    }
}
