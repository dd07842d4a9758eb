using PowerService.TestSupport;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

// The silo runs with the default call timeout: only the timeout test runs one with a short one, so a machine that
// stalls for a second (CI shares it) cannot fail the other tests.
public sealed class CallSemanticsTests : SqliteSiloTests
{
    [Fact]
    public async Task Concurrent_first_calls_to_one_key_share_one_activation()
    {
        var callers = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() => Silo.Grain<ICounterGrain>("meter-1").ActivationId()))
            .ToArray();

        var ids = await Task.WhenAll(callers);

        Assert.Single(ids.Distinct());
        Assert.Single(TestJournal.For("meter-1"), "activated");
        Assert.Equal(1, Silo.Silo.GetStatistics().ActivationsByType["CounterGrain"]);
    }

    [Fact]
    public async Task Calls_from_one_caller_run_in_arrival_order_even_when_a_turn_awaits()
    {
        var grain = Silo.Grain<ISequenceGrain>("order-1");

        await Task.WhenAll(Enumerable.Range(0, 500).Select(grain.Append).ToArray());

        Assert.Equal(Enumerable.Range(0, 500), await grain.Values());
    }

    [Fact]
    public async Task An_await_inside_a_turn_does_not_let_another_call_in()
    {
        var grain = Silo.Grain<IGateGrain>("gate-1");
        var first = grain.PassWhenOpen();
        var second = grain.PassWhenOpen();
        await Task.Delay(50);

        await grain.Open(); // interleaves with the waiting turn; the second call has not started
        Assert.Equal(1, await first);

        await grain.Open();
        Assert.Equal(1, await second);
        Assert.Equal(1, await grain.MostInsideAtOnce());
    }

    [Fact]
    public async Task An_interleaving_method_runs_while_a_turn_awaits()
    {
        var grain = Silo.Grain<IGateGrain>("gate-2");
        var waiting = grain.PassWhenOpen();
        await Task.Delay(20);

        // Without interleaving, Open would queue behind PassWhenOpen and both would time out.
        await grain.Open();

        Assert.Equal(1, await waiting);
    }

    [Fact]
    public async Task A_call_past_its_timeout_fails_with_a_clear_error_and_the_grain_recovers()
    {
        using var db = new TempSqlite();
        await using var silo = await TestSilo.StartAsync(db.NewProvider(), o => o.CallTimeout = TimeSpan.FromSeconds(1));
        var grain = silo.Grain<ISlowGrain>("slow-1");

        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => grain.Sleep(4_000));
        Assert.Contains("ISlowGrain.Sleep", error.Message);
        Assert.Contains("SlowGrain/slow-1", error.Message);

        var queued = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => grain.Ping());
        Assert.Contains("waiting behind an earlier call", queued.Message);

        await Task.Delay(4_000);
        Assert.Equal("pong", await grain.Ping());
    }

    [Fact]
    public async Task An_exception_thrown_by_a_grain_reaches_the_caller_with_its_type_and_message()
    {
        var grain = Silo.Grain<ISlowGrain>("failing-1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Fail("transformer offline"));

        Assert.Equal("transformer offline", error.Message);
        Assert.Equal("pong", await grain.Ping());
    }

    [Fact]
    public async Task A_call_cycle_fails_fast_naming_the_cycle()
    {
        var a = Silo.Grain<IChainGrain>("a");

        var error = await Assert.ThrowsAsync<GrainCallCycleException>(() => a.Relay(["b", "c", "a"], 0));

        Assert.Contains("ChainGrain/a -> ChainGrain/b -> ChainGrain/c -> ChainGrain/a", error.Message);
        Assert.Equal("a>b>c", await a.Relay(["b", "c"], 0));
    }

    [Fact]
    public async Task A_grain_calling_itself_fails_fast()
    {
        var error = await Assert.ThrowsAsync<GrainCallCycleException>(() => Silo.Grain<IChainGrain>("self").Relay(["self"], 0));

        Assert.Contains("ChainGrain/self -> ChainGrain/self", error.Message);
    }

    [Fact]
    public async Task A_cycle_through_interleaving_methods_is_allowed()
    {
        Assert.Equal("x>y>x", await Silo.Grain<IChainGrain>("x").RelayInterleaved(["y", "x"], 0));
    }

    [Fact]
    public async Task Timer_ticks_are_turns_that_never_overlap_calls()
    {
        var grain = Silo.Grain<ITimerGrain>("timer-1");
        await grain.Start(TimeSpan.FromMilliseconds(10));

        for (var i = 0; i < 10; i++)
        {
            await grain.Busy(15);
        }

        Assert.True(await grain.Ticks() > 0);
        Assert.Equal(1, await grain.MostConcurrent());
    }

    [Fact]
    public async Task A_timer_whose_callback_throws_keeps_ticking_and_the_grain_keeps_answering()
    {
        var grain = Silo.Grain<ITimerGrain>("timer-2");
        await grain.StartFailing(TimeSpan.FromMilliseconds(10));

        await Eventually.True(async () => await grain.Ticks() >= 3, "the failing timer ticked three times");
    }
}
