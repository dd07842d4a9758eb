namespace PowerService.Runtime.Tests.Support;

/// <summary>A test class whose tests share one silo over a fresh SQLite file, started before each test and stopped
/// (file deleted) after it.</summary>
public abstract class SqliteSiloTests : IAsyncLifetime
{
    private readonly TempSqlite _db = new();

    protected TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await TestSilo.StartAsync(_db.NewProvider());

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _db.Dispose();
    }
}
