using Xunit;

namespace PowerService.TestSupport;

/// <summary>One throwaway PostgreSQL cluster shared by a test collection; each test takes a fresh database in it.
/// Each test project declares its collection: <c>[CollectionDefinition("postgres")] class … : ICollectionFixture&lt;PostgresFixture&gt;</c>.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresCluster? _cluster;

    public PostgresCluster Cluster => _cluster ?? throw new InvalidOperationException("The PostgreSQL test cluster has not started.");

    // fsync off: the cluster is deleted after the run, so crash safety buys nothing and costs seconds.
    public async Task InitializeAsync() => _cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { Fsync = false });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
