using PowerService.TestSupport;
using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

public sealed class OneWayCallTests : SqliteSiloTests
{
    [Fact]
    public async Task A_one_way_call_is_done_for_its_caller_while_the_grain_is_busy_and_runs_after_in_the_order_sent()
    {
        var mailbox = Silo.Grain<IMailboxGrain>("busy-1");
        var holding = mailbox.Hold();

        var first = mailbox.Post("first");
        var second = mailbox.Post("second");

        Assert.True(first.IsCompletedSuccessfully, "the caller does not wait for a busy grain");
        Assert.True(second.IsCompletedSuccessfully);
        Assert.False(holding.IsCompleted);
        MailboxGrain.GateFor("busy-1").SetResult();
        await holding;
        Assert.Equal(["first", "second"], await mailbox.Items());
    }

    [Fact]
    public async Task A_grain_that_got_a_one_way_call_may_call_its_sender_back_without_a_cycle_error()
    {
        var sender = Silo.Grain<IMailboxGrain>("sender-1");

        // The sender holds its turn after sending; the receiver's call back waits for that turn instead of being
        // refused as a cycle (the sender never waited on the receiver).
        var holding = sender.AskForEchoAndHold("receiver-1");
        await Eventually.True(() => Silo.Silo.GetStatistics().ActivationsByType.GetValueOrDefault("MailboxGrain") >= 2, "the receiver ran");
        MailboxGrain.GateFor("sender-1").SetResult();
        await holding;

        await Eventually.True(async () => (await sender.Items()).Contains("echo from receiver-1"), "the echo reached the sender");
    }

    [Fact]
    public async Task A_one_way_call_that_throws_does_not_reach_its_caller_and_the_grain_keeps_answering()
    {
        var mailbox = Silo.Grain<IMailboxGrain>("exploding-1");

        await mailbox.Explode("meter head-end unreachable");
        await mailbox.Post("after");

        Assert.Equal(["after"], await mailbox.Items());
    }
}
