import { describe, expect, it } from 'vitest';
import { type FrameSocket, LatestWinsSender } from '../../../src/io/ws/sender.js';

/** A socket whose send buffer fills and drains when the test says so. */
class FakeSocket implements FrameSocket {
  readyState = 1;
  bufferedAmount = 0;
  written: number[] = [];
  private callbacks: (() => void)[] = [];
  send(data: Uint8Array, callback: (error?: Error) => void): void {
    this.written.push(data[0]!);
    this.bufferedAmount += data.byteLength;
    this.callbacks.push(() => {
      this.bufferedAmount -= data.byteLength;
      callback();
    });
  }
  drainOne(): void {
    this.callbacks.shift()?.();
  }
}

const frame = (id: number, bytes = 100) => {
  const data = new Uint8Array(bytes);
  data[0] = id;
  return data;
};

describe('LatestWinsSender', () => {
  it('writes while under the high-water mark', () => {
    const socket = new FakeSocket();
    const sender = new LatestWinsSender(socket, 1000);
    for (let id = 0; id < 5; id++) expect(sender.offer(frame(id))).toBe(true);
    expect(socket.written).toEqual([0, 1, 2, 3, 4]);
    expect(sender.dropped).toBe(0);
  });

  it('above the mark keeps only the newest frame, counts the others, and sends it after a drain', () => {
    const socket = new FakeSocket();
    const sender = new LatestWinsSender(socket, 250);
    sender.offer(frame(0));
    sender.offer(frame(1));
    sender.offer(frame(2)); // 300 bytes buffered now
    expect(sender.offer(frame(3))).toBe(false);
    expect(sender.offer(frame(4))).toBe(false);
    expect(sender.offer(frame(5))).toBe(false);
    expect(sender.waiting).toBe(1);
    expect(sender.dropped).toBe(2);
    expect(socket.written).toEqual([0, 1, 2]);
    socket.drainOne(); // 200 bytes: under the mark, the newest goes out
    expect(socket.written).toEqual([0, 1, 2, 5]);
    expect(sender.waiting).toBe(0);
    expect(sender.sent).toBe(4);
  });

  it('never blocks and drops frames offered to a closed socket', () => {
    const socket = new FakeSocket();
    const sender = new LatestWinsSender(socket, 250);
    socket.readyState = 3;
    expect(sender.offer(frame(0))).toBe(false);
    expect(sender.dropped).toBe(1);
    expect(socket.written).toEqual([]);
  });

  it('a waiting frame is dropped when the socket closes before it drains', () => {
    const socket = new FakeSocket();
    const sender = new LatestWinsSender(socket, 50);
    sender.offer(frame(0));
    sender.offer(frame(1));
    socket.readyState = 3;
    socket.drainOne();
    expect(sender.dropped).toBe(1);
    expect(socket.written).toEqual([0]);
  });
});
