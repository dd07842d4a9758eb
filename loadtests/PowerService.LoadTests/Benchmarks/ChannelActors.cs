using System.Threading.Channels;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>The baseline for grain calls: the least a mailbox can cost. One unbounded channel and one consumer loop
/// per actor; each request carries its own reply task, completed asynchronously as a grain call's is.</summary>
internal sealed class ChannelActors : IAsyncDisposable
{
    private readonly Channel<PingRequest>[] _mailboxes;
    private readonly Task[] _consumers;

    public ChannelActors(int actors)
    {
        _mailboxes = new Channel<PingRequest>[actors];
        _consumers = new Task[actors];
        for (var i = 0; i < actors; i++)
        {
            var mailbox = Channel.CreateUnbounded<PingRequest>(new UnboundedChannelOptions { SingleReader = true });
            _mailboxes[i] = mailbox;
            _consumers[i] = Task.Run(() => Serve(mailbox.Reader));
        }
    }

    public Task<int> Ping(int actor, int x)
    {
        var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_mailboxes[actor].Writer.TryWrite(new PingRequest(x, reply)))
        {
            throw new InvalidOperationException("The actors have stopped.");
        }
        return reply.Task;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var mailbox in _mailboxes)
        {
            mailbox.Writer.TryComplete();
        }
        await Task.WhenAll(_consumers);
    }

    // One request at a time, in arrival order, like a grain turn.
    private static async Task Serve(ChannelReader<PingRequest> reader)
    {
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var request))
            {
                request.Reply.SetResult(request.X + 1);
            }
        }
    }

    private readonly record struct PingRequest(int X, TaskCompletionSource<int> Reply);
}
