using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Ami;

/// <summary>Which transformer area each meter belongs to, held in memory so that a storm's events are routed without
/// a store read per meter. Loaded from the catalog when the silo starts and again after every meter import, a page at
/// a time, without payloads. About 30 bytes a meter: the meter id is kept as its 64-bit <see cref="StableHash"/>
/// (a million meters: ~30 MB), the area as an index into the list of area ids.
/// The directory never answers wrongly for a meter it knows: two meters whose ids share a hash are left out (and
/// looked up in the store); an import that changes meters drops the whole directory before its reload, so a moved
/// meter is looked up in the store until the reload is done. A meter it does not know (new, unknown, or before the
/// first load finished) is looked up in the store by the caller. What it cannot rule out is an unknown meter id
/// whose hash equals a known meter's (odds about 1 in 10^13 per unknown id at a million meters): its events would
/// reach that meter's area, where they count as one more meter heard from.
/// One silo: an import on another silo is not seen here (scale-out needs the catalog change broadcast).</summary>
public sealed partial class MeterDirectory(ILogger<MeterDirectory> logger) : ISiloService
{
    private const int PageSize = 20_000;
    private const int Ambiguous = -1;

    private readonly Channel<bool> _reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Silo? _silo;
    private Task _loop = Task.CompletedTask;
    private volatile Snapshot? _snapshot;

    /// <summary>Meters known (not counting those left out for a shared hash); 0 until the first load is done.</summary>
    public int Count => _snapshot?.Count ?? 0;

    /// <summary>The meter's transformer area, when the directory knows it; false sends the caller to the store.</summary>
    public bool TryGetArea(string meterId, out string area)
    {
        if (_snapshot is { } snapshot && snapshot.AreaOfMeter.TryGetValue(StableHash.Of(meterId), out var index) && index != Ambiguous)
        {
            area = snapshot.Areas[index];
            return true;
        }
        area = "";
        return false;
    }

    public Task StartAsync(Silo silo, CancellationToken cancellationToken)
    {
        _silo = silo;
        silo.CatalogChanged += OnCatalogChanged;
        _reloads.Writer.TryWrite(true);
        _loop = Task.Run(LoadLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _silo!.CatalogChanged -= OnCatalogChanged;
        await _stop.CancelAsync();
        _reloads.Writer.TryComplete();
        await _loop;
    }

    private void OnCatalogChanged(string kind)
    {
        if (kind == TopologyKinds.Meter)
        {
            // Forget first: until the reload is done every meter is looked up in the store, never routed by the old map.
            _snapshot = null;
            _reloads.Writer.TryWrite(true);
        }
    }

    private async Task LoadLoopAsync()
    {
        try
        {
            while (await _reloads.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                _reloads.Reader.TryRead(out _);
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var snapshot = await LoadAsync(_stop.Token).ConfigureAwait(false);
                    // An import during the load asked for another one; this snapshot may predate it.
                    if (!_reloads.Reader.TryPeek(out _))
                    {
                        _snapshot = snapshot;
                        LogLoaded(logger, snapshot.Count, snapshot.Areas.Length, Stopwatch.GetElapsedTime(started).TotalSeconds);
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogLoadFailed(logger, error);
                    await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token).ConfigureAwait(false);
                    _reloads.Writer.TryWrite(true);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var storage = _silo!.Storage;
        var areaOfMeter = new Dictionary<ulong, int>((int)Math.Min(await storage.CountCatalogAsync(TopologyKinds.Meter, cancellationToken).ConfigureAwait(false), int.MaxValue / 2));
        var areaIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var areas = new List<string>();
        string? after = null;
        while (await storage.ReadCatalogLinksAsync(TopologyKinds.Meter, after, PageSize, cancellationToken).ConfigureAwait(false) is { Count: > 0 } page)
        {
            foreach (var link in page)
            {
                if (link.ParentKey is not { } area)
                {
                    continue;
                }
                if (!areaIndex.TryGetValue(area, out var index))
                {
                    areaIndex[area] = index = areas.Count;
                    areas.Add(area);
                }
                var hash = StableHash.Of(link.Key);
                if (!areaOfMeter.TryAdd(hash, index))
                {
                    areaOfMeter[hash] = Ambiguous;
                }
            }
            after = page[^1].Key;
        }
        return new Snapshot(areaOfMeter, [.. areas], areaOfMeter.Values.Count(index => index != Ambiguous));
    }

    private sealed record Snapshot(Dictionary<ulong, int> AreaOfMeter, string[] Areas, int Count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter directory loaded: {Meters} meters in {Areas} transformer areas in {Seconds:0.0} s")]
    private static partial void LogLoaded(ILogger logger, int meters, int areas, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the meter directory failed; meters are looked up in the store until a retry succeeds")]
    private static partial void LogLoadFailed(ILogger logger, Exception error);
}
