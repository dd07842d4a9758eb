using System.Collections.Concurrent;
using PowerService.Runtime.Storage;
using PowerService.Runtime.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests;

public interface ICatalogReaderGrain : IGrain
{
    /// <summary>The payload of this grain's "meter" entry as read on activation, or null.</summary>
    Task<string?> Payload();

    /// <summary>Waits for the test's gate for this key, then answers like <see cref="Payload"/>.</summary>
    Task<string?> PayloadWhenReleased();
}

public sealed class CatalogReaderGrain(ICatalog catalog) : Grain, ICatalogReaderGrain
{
    public static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    private string? _payload;

    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        _payload = (await catalog.ReadAsync("meter", GetPrimaryKeyString()))?.Payload;

    public Task<string?> Payload() => Task.FromResult(_payload);

    public async Task<string?> PayloadWhenReleased()
    {
        await Gates.GetOrAdd(GetPrimaryKeyString(), _ => new TaskCompletionSource()).Task;
        return _payload;
    }
}

/// <summary>Grains read reference data through <see cref="ICatalog"/> on activation; an import makes the stale ones
/// read again through <see cref="Silo.InvalidateActivations(IEnumerable{GrainId})"/>.</summary>
public sealed class CatalogTests : IDisposable
{
    private readonly TempSqlite _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Grains_activating_together_read_their_entries_and_an_invalidated_grain_reads_the_changed_entry()
    {
        await using var silo = await TestSilo.StartAsync(_db.NewProvider());
        await ImportAsync(silo, ("MT-1", "v1"), ("MT-2", "v1"));
        var grains = Enumerable.Range(1, 3).Select(i => silo.Grain<ICatalogReaderGrain>($"MT-{i}")).ToArray();
        Assert.Equal("v1 v1 -", await PayloadsAsync(grains));

        await ImportAsync(silo, ("MT-1", "v2"), ("MT-2", "v2"), ("MT-3", "v2"));
        var cached = await grains[0].Payload();
        var invalidated = silo.Silo.InvalidateActivations([new GrainId("CatalogReaderGrain", "MT-1"), new GrainId("CatalogReaderGrain", "MT-9")]);

        Assert.Equal("v1", cached);
        Assert.Equal(1, invalidated);
        Assert.Equal("v2 v1 -", await PayloadsAsync(grains));
        Assert.Equal(3, silo.Silo.InvalidateActivations("CatalogReaderGrain"));
        Assert.Equal("v2 v2 v2", await PayloadsAsync(grains));
    }

    [Fact]
    public async Task A_call_queued_behind_a_running_call_when_the_grain_is_invalidated_reaches_a_fresh_activation()
    {
        await using var silo = await TestSilo.StartAsync(_db.NewProvider());
        await ImportAsync(silo, ("MT-busy", "v1"));
        var grain = silo.Grain<ICatalogReaderGrain>("MT-busy");
        var running = grain.PayloadWhenReleased();
        await Eventually.True(() => CatalogReaderGrain.Gates.ContainsKey("MT-busy"), "the first call runs");
        await ImportAsync(silo, ("MT-busy", "v2"));

        silo.Silo.InvalidateActivations([new GrainId("CatalogReaderGrain", "MT-busy")]);
        var queued = grain.Payload();
        CatalogReaderGrain.Gates["MT-busy"].SetResult();

        Assert.Equal("v1", await running);
        Assert.Equal("v2", await queued);
    }

    /// <summary>Each grain's payload, "-" for none, in order.</summary>
    private static async Task<string> PayloadsAsync(ICatalogReaderGrain[] grains) =>
        string.Join(' ', (await Task.WhenAll(grains.Select(g => g.Payload()))).Select(p => p ?? "-"));

    private static async Task ImportAsync(TestSilo silo, params (string Key, string Payload)[] entries)
    {
        var result = await silo.Silo.Storage.ImportCatalogAsync("meter", null, entries.Select(e => new CatalogEntry(e.Key, null, e.Payload)).ToAsyncEnumerable());
        Assert.True(result.Applied);
    }
}
