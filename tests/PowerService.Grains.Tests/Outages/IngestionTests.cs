using System.Reflection;
using PowerService.Grains.Ami;
using PowerService.Grains.Tests.Support;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;
using static PowerService.Grains.Tests.Outages.OutageScenario;

namespace PowerService.Grains.Tests.Outages;

/// <summary>The ingestion path's own promises: a bad batch is refused whole, a full queue refuses with a retry time
/// instead of dropping, unknown meters are reported back, an accepted batch is applied before its answer.</summary>
public sealed class IngestionTests : IAsyncLifetime
{
    private readonly CatalogGate _gate = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("powerservice-ingestion-").FullName;
    private WorkflowSilo _silo = null!;

    public async Task InitializeAsync()
    {
        var folder = _folder;
        _silo = await WorkflowSilo.StartAsync(
            configure: o =>
            {
                o.Ingestion.QueueCapacity = 150;
                o.Ingestion.MaxSubmission = 100;
            },
            openStore: clock => _gate.Wrap(new SqliteStorageProvider(new SqliteStorageOptions
            {
                ConnectionString = $"Data Source={Path.Combine(folder, "silo.db")}",
                TimeProvider = clock,
            })));
        await ImportTopologyAsync(_silo);
    }

    public async Task DisposeAsync()
    {
        _gate.Open();
        await _silo.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_full_queue_refuses_the_next_batch_whole_with_a_retry_time_and_takes_it_once_drained()
    {
        _gate.Close();
        var first = SendAsync(_silo, Events(_silo, 1, 100, MeterEventType.LastGasp));

        var refused = await Assert.ThrowsAsync<ServiceBusyException>(() => Ingestion(_silo).SubmitAsync([.. Events(_silo, 101, 200, MeterEventType.LastGasp)]));

        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Equal(100, Ingestion(_silo).GetStatistics().Queued);
        Assert.False(first.IsCompleted);
        _gate.Open();
        Assert.Equal(100, (await first).Accepted);
        Assert.Equal(100, (await SendAsync(_silo, Events(_silo, 101, 200, MeterEventType.LastGasp))).Accepted);
        Assert.Equal(0, Ingestion(_silo).GetStatistics().Queued);
    }

    /// <summary>The drain time was the queue divided by the last batch's own rate: one event that took a second (the
    /// store's round trip right after a start) made it one event a second, and a head-end was told to wait 30 s for a
    /// queue that drained in 0.2 s. A batch too small to measure the rate leaves it unmeasured.</summary>
    [Fact]
    public async Task A_single_slow_event_does_not_make_the_retry_time_of_a_full_queue_long()
    {
        _gate.Close();
        var single = SendAsync(_silo, Events(_silo, 1, 1, MeterEventType.LastGasp));
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        _gate.Open();
        Assert.Equal(1, (await single).Accepted);

        _gate.Close();
        var full = SendAsync(_silo, Events(_silo, 1, 100, MeterEventType.LastGasp));
        var refused = await Assert.ThrowsAsync<ServiceBusyException>(() => Ingestion(_silo).SubmitAsync([.. Events(_silo, 101, 200, MeterEventType.LastGasp)]));
        _gate.Open();

        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(100, (await full).Accepted);
    }

    [Fact]
    public async Task A_batch_the_store_cannot_take_is_refused_with_a_retry_time_and_without_naming_the_store()
    {
        await using var silo = await WorkflowSilo.StartAsync(storeBusyTimeout: TimeSpan.FromMilliseconds(200));
        await ImportTopologyAsync(silo);

        ServiceBusyException refused;
        await using (await silo.LockStoreAsync())
        {
            refused = await Assert.ThrowsAsync<ServiceBusyException>(() => SendAsync(silo, Events(silo, 1, 10, MeterEventType.LastGasp)));
        }

        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.StartsWith("The store did not answer", refused.Message);
        Assert.DoesNotContain(".db", refused.Message);
        Assert.Equal(10, (await SendAsync(silo, Events(silo, 1, 10, MeterEventType.LastGasp))).Accepted);
    }

    [Fact]
    public async Task One_bad_event_refuses_the_whole_batch_naming_it_and_nothing_is_applied()
    {
        var events = Events(_silo, 1, 20, MeterEventType.LastGasp).ToList();
        events[7] = events[7] with { EventId = " " };

        var bad = await Assert.ThrowsAsync<InvalidFieldException>(() => Ingestion(_silo).SubmitAsync(events));

        Assert.Equal("events[7].eventId", bad.Field);
        Assert.Equal(0, (await _silo.Grain<PowerService.Grains.Outages.IAreaPowerGrain>(Area(1)).Get()).DarkMeters);
        var reading = new MeterEvent(Meter(1), "r-1", MeterEventType.Reading, _silo.Clock.GetUtcNow());
        Assert.Equal("events[0].kwh", (await Assert.ThrowsAsync<InvalidFieldException>(() => Ingestion(_silo).SubmitAsync([reading]))).Field);
    }

    [Fact]
    public async Task Events_of_meters_the_topology_does_not_know_are_reported_back_and_the_rest_applied()
    {
        var events = Events(_silo, 1, 3, MeterEventType.LastGasp)
            .Append(new MeterEvent("MT-UNKNOWN", "g-1", MeterEventType.LastGasp, _silo.Clock.GetUtcNow()));

        var receipt = await SendAsync(_silo, events);

        Assert.Equal((3, "MT-UNKNOWN"), (receipt.Accepted, Assert.Single(receipt.UnknownMeters)));
        Assert.Equal(3, (await _silo.Grain<PowerService.Grains.Outages.IAreaPowerGrain>(Area(1)).Get()).DarkMeters);
    }

    /// <summary>Holds catalog reads while closed: the ingestion pump waits on its meter lookup, so its queue fills
    /// deterministically. Every other store call passes straight through.</summary>
    private sealed class CatalogGate
    {
        private volatile TaskCompletionSource _open = Opened();

        public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public IStorageProvider Wrap(IStorageProvider inner)
        {
            var proxy = DispatchProxy.Create<IStorageProvider, GatedStore>();
            ((GatedStore)(object)proxy).Init(inner, this);
            return proxy;
        }

        internal Task WhenOpen => _open.Task;

        private static TaskCompletionSource Opened()
        {
            var open = new TaskCompletionSource();
            open.SetResult();
            return open;
        }
    }

    public class GatedStore : DispatchProxy
    {
        private IStorageProvider _inner = null!;
        private CatalogGate _gate = null!;

        internal void Init(IStorageProvider inner, object gate)
        {
            _inner = inner;
            _gate = (CatalogGate)gate;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IStorageProvider.ReadCatalogAsync) && !_gate.WhenOpen.IsCompleted)
            {
                return GatedRead(args!);
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException error) when (error.InnerException is not null)
            {
                throw error.InnerException;
            }
        }

        private async Task<IReadOnlyList<CatalogEntry?>> GatedRead(object?[] args)
        {
            await _gate.WhenOpen;
            return await _inner.ReadCatalogAsync((string)args[0]!, (IReadOnlyList<string>)args[1]!, (CancellationToken)args[2]!);
        }
    }
}
